// Labels end to end, on the k3d/docker fakes, a bare Git repository and a real haproxy config:
// given on create (CLI, API, comment), changed by an update that touches no system, recorded as
// versions, and filtering the list on every surface (CLI text and JSON, API, console, comment).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOf, perform } from '../../src/actions/index.js';
import { parseArgs } from '../../src/commands/parse.js';
import { loadConfig } from '../../src/config/config.js';
import type { Operation } from '../../src/domain/index.js';
import { commentAnswer } from '../../src/github/answers.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

const TOKEN = 'labels-console-token-0123456789';

describe('labels', () => {
  let fakes: Fakes;
  let restore: () => void;
  let tmp: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let rt: Runtime;
  let server: http.Server;
  let base: string;

  const cli = (...argv: string[]) => cliInProcess(argv, env);
  const run = async (...argv: string[]) => {
    const result = await cli(...argv, '--json');
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    return JSON.parse(result.stdout) as Operation & { steps: { step: string; status: string }[] };
  };
  const api = (method: string, route: string, body?: object) =>
    fetch(`${base}/kindler/${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const listed = async (...argv: string[]) => {
    const result = await cli('list', ...argv, '--json');
    expect(result.code, result.stderr).toBe(0);
    return (
      JSON.parse(result.stdout) as { environments: { name: string; labels: object }[] }
    ).environments.map((e) => e.name);
  };

  beforeAll(async () => {
    fakes = setupFakes();
    restore = fakes.apply();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-labels-'));
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
      path.join(tmp, 'haproxy.cfg'),
    );
    db = await createTestDatabase();
    env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'labels.test',
      HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      KINDLER_RETRY_DELAYS_MS: 'none',
      KINDLER_READY_TIMEOUT: '0',
      USER: 'alice',
    };
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    server = await startHttpServer([dashboardHandler(rt, { token: TOKEN })], '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await rt?.close();
    restore?.();
    fakes?.cleanup();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('are given on create by the CLI and the API, and filter every list', async () => {
    expect((await run('create', 'web-a', '--label', 'team=a', '--label', 'tier=web')).status).toBe(
      'success',
    );
    expect((await run('create', 'db-a', '--label', 'team=a,tier=db')).status).toBe('success');
    const posted = await api('POST', 'api/environments', {
      name: 'web-b',
      provider: 'k3d',
      labels: { team: 'b', tier: 'web' },
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const queued = (await posted.json()) as { operation: { id: number } };
    expect((await rt.engine.execute(queued.operation.id, { owner: 't' }))?.status).toBe('success');
    expect((await rt.store.getEnvironment('web-b'))?.labels).toEqual({ team: 'b', tier: 'web' });

    expect(await listed('--label', 'team=a')).toEqual(['web-a', 'db-a']);
    expect(await listed('--label', 'tier=web')).toEqual(['web-a', 'web-b']);
    expect(await listed('--label', 'team=a', '--label', 'tier=web')).toEqual(['web-a']);
    expect(await listed('--label', 'team=c')).toEqual([]);
    const text = await cli('list', '--label', 'team=c');
    expect(text.stdout).toContain('No environment carries team=c.');
    const status = await cli('status', 'web-a');
    expect(status.stdout).toMatch(/labels {4}team=a,tier=web/);

    const viaApi = await api('GET', 'api/environments?label=tier=web&label=team=b');
    const body = (await viaApi.json()) as { environments: { name: string; labels: object }[] };
    expect(body.environments.map((e) => [e.name, e.labels])).toEqual([
      ['web-b', { team: 'b', tier: 'web' }],
    ]);
    const page = await (await api('GET', '?label=team%3Da')).text();
    expect(page).toContain('value="team=a"');
    expect(page).toContain('>web-a</a>');
    expect(page).toContain('>db-a</a>');
    expect(page).not.toContain('>web-b</a>');

    const answer = commentAnswer(
      await perform(
        (parseArgs(['list', '--label', 'team=b']) as { command: never }).command,
        contextOf(rt, {
          source: 'issue_comment',
          actor: 'octocat',
          url: null,
          repo: null,
          issueNumber: null,
          headSha: null,
        }),
      ),
      '/env list --label team=b',
      rt.urls,
    );
    expect((answer as { reply: string }).reply).toContain('| web-b |');
    expect((answer as { reply: string }).reply).not.toContain('| web-a |');
  });

  it('an update of labels touches no system, is a version, and bad labels change nothing', async () => {
    fakes.clearArgv();
    const updated = await run('update', 'web-a', '--label', 'team=b', '--label', 'tier-');
    expect(updated).toMatchObject({ kind: 'update', status: 'success' });
    expect(updated.steps.filter((s) => s.status !== 'skipped').map((s) => s.step)).toEqual([
      'record',
    ]);
    expect(fakes.argv()).toEqual([]);
    expect((await rt.store.getEnvironment('web-a'))?.labels).toEqual({ team: 'b' });
    expect(await listed('--label', 'team=b')).toEqual(['web-a', 'web-b']);
    const history = await cli('history', 'web-a', '--json');
    const versions = (
      JSON.parse(history.stdout) as {
        versions: { version: number; changes: { field: string; from: unknown; to: unknown }[] }[];
      }
    ).versions;
    expect(versions[0]!.changes).toEqual([
      { field: 'labels', from: 'team=a,tier=web', to: 'team=b' },
    ]);

    // Through the API: null removes; a bad one is refused with nothing changed.
    const patch = await api('PATCH', 'api/environments/web-b', { labels: { tier: null } });
    expect(patch.status, await patch.clone().text()).toBe(202);
    const op = (await patch.json()) as { operation: { id: number } };
    expect((await rt.engine.execute(op.operation.id, { owner: 't' }))?.status).toBe('success');
    expect((await rt.store.getEnvironment('web-b'))?.labels).toEqual({ team: 'b' });

    const before = await rt.store.listOperations({ limit: 100 });
    for (const argv of [
      ['update', 'web-a', '--label', 'bad key=1'],
      ['update', 'web-a', '--label', 'team'],
      ['create', 'bad-1', '--label', 'x=a b'],
      ['list', '--label', 'nope'],
    ]) {
      const refused = await cli(...argv);
      expect(refused.code, refused.stdout).toBe(2);
      expect(refused.stderr).toMatch(/label/i);
    }
    const tooMany = await cli(
      'update',
      'web-a',
      '--label',
      Array.from({ length: 10 }, (_, i) => `k${i}=v`).join(','),
    );
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('at most 10 labels (this would be 11)');
    const refusedApi = await api('POST', 'api/environments', {
      name: 'bad-2',
      labels: { team: 'a b' },
    });
    expect(refusedApi.status).toBe(400);
    expect(await refusedApi.text()).toContain('label');
    const badFilter = await api('GET', 'api/environments?label=nope');
    expect(badFilter.status).toBe(400);
    expect(await rt.store.listOperations({ limit: 100 })).toEqual(before);
    expect(await rt.store.getEnvironment('bad-1')).toBeNull();
    expect((await rt.store.getEnvironment('web-a'))?.labels).toEqual({ team: 'b' });
  });
});
