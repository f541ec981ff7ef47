// Versions of an environment's configuration: a create is version 1, each extend a version with
// what it changed, a change that changes nothing no version; the same history on every surface —
// `kindler history` (text and --json), `/env history`, the console's page and its API — and a
// version costs one small row.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOf, perform } from '../../src/actions/index.js';
import { loadConfig } from '../../src/config/config.js';
import { envName } from '../../src/domain/index.js';
import { commentAnswer } from '../../src/github/answers.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

describe('environment history', () => {
  let fakes: Fakes;
  let restore: () => void;
  let tmp: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let rt: Runtime;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    fakes = setupFakes();
    restore = fakes.apply();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-history-'));
    db = await createTestDatabase();
    env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      BASE_DOMAIN: 'history.test',
      KINDLER_RETRY_DELAYS_MS: 'none',
      USER: 'alice',
    };
    const created = await cliInProcess(['create', 'dev', '--no-portainer'], env);
    expect(created.code, created.stderr).toBe(0);
    expect((await cliInProcess(['extend', 'dev', '2h'], env)).code).toBe(0);
    expect((await cliInProcess(['extend', 'dev', 'never'], env)).code).toBe(0);
    // Pinned again: nothing changes, so no version.
    expect((await cliInProcess(['extend', 'dev', 'never'], env)).code).toBe(0);
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    server = await startHttpServer([dashboardHandler(rt, {})], '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await rt?.close();
    restore();
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db?.drop();
  });

  it('records a create and each change that changes something, with who, where and what', async () => {
    const json = await cliInProcess(['history', 'dev', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const { versions } = JSON.parse(json.stdout) as {
      versions: { version: number; actor: string; source: string; changes: { field: string }[] }[];
    };
    expect(versions.map((v) => [v.version, v.actor, v.source])).toEqual([
      [3, 'alice', 'cli'],
      [2, 'alice', 'cli'],
      [1, 'alice', 'cli'],
    ]);
    expect(versions[0]!.changes.map((c) => c.field)).toEqual(['expiresAt', 'pinned']);
    expect(versions[1]!.changes.map((c) => c.field)).toEqual(['expiresAt']);
    expect(versions[2]!.changes.map((c) => c.field)).toEqual([
      'provider',
      'registerPortainer',
      'haproxyRoute',
      'servers',
      'agents',
      'nodeCpus',
      'nodeMemoryMib',
      'expiresAt',
      'pinned',
      'deployedSha',
      'labels',
    ]);
    const text = await cliInProcess(['history', 'dev'], env);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+WHEN\s+BY\s+VIA\s+WHAT CHANGED$/);
    expect(lines[1]).toMatch(/^3\s+\S+Z\s+alice\s+cli\s+expiresAt \S+Z → –, pinned false → true$/);
    expect(lines[3]).toMatch(/made: provider k3d, registerPortainer false, haproxyRoute true/);
    expect((await cliInProcess(['history', 'nope'], env)).code).toBe(3);
  });

  it('is the same history in a comment, the console and its API', async () => {
    const trigger = {
      source: 'issue_comment',
      actor: 'bob',
      url: null,
      repo: null,
      issueNumber: null,
      headSha: null,
    } as const;
    const said = commentAnswer(
      await perform({ verb: 'history', name: envName('dev') }, contextOf(rt, trigger)),
      '/env history dev',
      rt.urls,
    );
    expect(said).toEqual({ reply: expect.stringContaining('| 3 | ') });
    expect((said as { reply: string }).reply).toMatch(/\| 1 \| \S+Z \| alice \| cli \| made: /);
    const api = (await (await fetch(`${base}/kindler/api/environments/dev/versions`)).json()) as {
      versions: { version: number }[];
    };
    expect(api.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect((await fetch(`${base}/kindler/api/environments/nope/versions`)).status).toBe(404);
    const page = await (await fetch(`${base}/kindler/environments/dev`)).text();
    expect(page).toContain('(3 versions)');
    expect(page).toContain('expiresAt');
  });

  it('a version is one row of a few hundred bytes', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string; max: number }>(
        'select count(*) as n, max(pg_column_size(v.*)) as max from environment_versions v',
      );
      expect(Number(rows[0]!.n)).toBe(3);
      console.log(`largest version row: ${rows[0]!.max} bytes`);
      expect(rows[0]!.max).toBeLessThan(600);
    } finally {
      await client.end();
    }
  });

  it('audits every operation and version by who, where and since when, on every surface', async () => {
    await perform(
      { verb: 'extend', name: envName('dev'), durationMs: 3_600_000 },
      contextOf(rt, {
        source: 'dashboard',
        actor: 'carol',
        via: 'github',
        url: null,
        repo: null,
        issueNumber: null,
        headSha: null,
      }),
    );
    const cli = await cliInProcess(['audit', '--actor', 'alice', '--json'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const entries = (
      JSON.parse(cli.stdout) as { entries: { type: string; what: string; actor: string }[] }
    ).entries;
    expect(entries.map((e) => `${e.type} ${e.what}`)).toEqual([
      'version version 3',
      'version version 2',
      'version version 1',
      'operation create',
    ]);
    expect(entries.every((e) => e.actor === 'alice')).toBe(true);
    const text = await cliInProcess(['audit', '--env', 'dev', '--since', '1h'], env);
    expect(text.stdout.split('\n')[0]).toMatch(/^WHEN\s+ENV\s+WHAT\s+OUTCOME\s+BY\s+VIA$/);
    expect(text.stdout.split('\n')[1]).toMatch(/^\S+Z\s+dev\s+version 4\s+-\s+carol\s+dashboard$/);
    expect(text.stdout).toMatch(/dev\s+create #\d+\s+success\s+alice\s+cli/);
    const bad = await cliInProcess(['audit', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('since is a duration back from now');
    const api = (await (await fetch(`${base}/kindler/api/audit?actor=carol`)).json()) as {
      entries: { what: string; source: string }[];
    };
    expect(api.entries).toEqual([
      expect.objectContaining({ what: 'version 4', source: 'dashboard' }),
    ]);
    expect((await fetch(`${base}/kindler/api/audit?env=Bad_Name`)).status).toBe(400);
    const page = await (await fetch(`${base}/kindler/audit?actor=alice`)).text();
    expect(page).toContain('4 entries, newest first');
    expect(page).toMatch(/create #\d+/);
  });
});
