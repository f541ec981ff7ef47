// The reconcile loop in a real server process (the GitHub stand-in, the fake CLIs, a bare
// repository for branches): off by default — drift is reported on the drift issue, nothing is
// repaired; with KINDLER_AUTO_REPAIR=non-destructive a branch deleted by hand comes back without a
// command, as a sync operation of `kindler` reporting on the drift issue, while an orphan cluster
// is only reported; an environment whose repair does not hold is given up on, said once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appProcessEnv, startAppWorld } from '../support/app-process.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

const REPO = 'acme/platform';
const INTERVAL_S = 5;

describe('the reconcile loop', () => {
  let world: Awaited<ReturnType<typeof startAppWorld>>;
  let db: TestDatabase;
  let client: pg.Client;
  let env: Record<string, string>;
  let server: ServerProcess | null = null;
  let restore = () => undefined as void;
  // The alerts' receiver (KINDLER_NOTIFY_URL): takes everything.
  let receiver: http.Server;
  const alerts: { event: string; environment: string; text: string }[] = [];
  const git = (...a: string[]) =>
    execFileSync('git', [`--git-dir=${path.join(world.tmp, 'gitops.git')}`, ...a], {
      encoding: 'utf8',
    }).trim();
  const hasBranch = (name: string) =>
    git('for-each-ref', '--format=%(refname:strip=2)', 'refs/heads').split('\n').includes(name);
  const syncs = async (name: string) =>
    (
      await client.query<{ id: number; actor: string; trigger_source: string; status: string }>(
        `select id, actor, trigger_source, status from operations
          where cluster_name = $1 and operation = 'sync' order by id`,
        [name],
      )
    ).rows;
  const context = async () =>
    `server:\n${server?.output().slice(-4000)}\nissues: ${JSON.stringify(world.github.issues)}\n` +
    `operations: ${JSON.stringify((await client.query('select id, cluster_name, operation, status, error_message from operations order by id')).rows)}`;
  const drift = () => world.github.issues.find((i) => i.labels.includes('kindler-drift'));

  beforeAll(async () => {
    world = await startAppWorld({
      repo: REPO,
      secret: 'reconcile-secret',
      baseDomain: 'heal.test',
    });
    restore = world.fakes.apply();
    receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(raw) as (typeof alerts)[number]);
        res.writeHead(204);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    env = {
      ...appProcessEnv(world),
      DATABASE_URL: db.url,
      KINDLER_DRIFT_INTERVAL: `${INTERVAL_S}s`,
      KINDLER_AUTO_REPAIR_MAX_PER_HOUR: '2',
      KINDLER_GITHUB_WRITE_GAP_MS: '20',
      KINDLER_NOTIFY_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`,
      KINDLER_DRIFT_ALERT_AFTER: '0',
    };
    const created = await cliInProcess(['create', 'web', '--no-portainer'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(hasBranch('web')).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL').catch(() => undefined);
    await client?.end();
    await db?.drop();
    restore();
    await world?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('is off by default: drift is reported on the drift issue and nothing is repaired', async () => {
    server = await startServerProcess(env);
    git('update-ref', '-d', 'refs/heads/web');
    const issue = await waitUntil('the drift issue', () => drift(), {
      timeoutMs: 4 * INTERVAL_S * 1000,
      context,
    });
    expect(issue.body).toContain('`web`');
    // Drifting past KINDLER_DRIFT_ALERT_AFTER (0 here): told to the receiver and on the issue.
    const drifted = () =>
      world.github.comments.filter(
        (c) => c.issue === issue.number && c.body.startsWith('⚠ web has drifted'),
      );
    await waitUntil('the drift alert', () => alerts.length > 0 && drifted().length > 0, {
      timeoutMs: 3 * INTERVAL_S * 1000,
      context,
    });
    // Two more passes: still reported, never repaired, told once.
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_S * 1000));
    expect(hasBranch('web')).toBe(false);
    expect(await syncs('web')).toEqual([]);
    expect(alerts).toEqual([
      expect.objectContaining({
        event: 'drifting',
        environment: 'web',
        text: expect.stringMatching(
          /^⚠ kindler: web has drifted from the database for \d+ min\. Fix: `kindler sync web`$/,
        ),
      }),
    ]);
    expect(drifted()).toHaveLength(1);
    expect(drifted()[0]!.body).toContain('Fix: `/env sync web`');
    await server.stop();
  }, 60_000);

  it('with KINDLER_AUTO_REPAIR=non-destructive, brings the branch back as a sync of `kindler`; an orphan cluster is only reported', async () => {
    const state = world.fakes.state();
    state.k3d.stray = { ports: [{ host: 18999, container: 80 }], running: true };
    fs.writeFileSync(path.join(world.fakes.stateDir, 'state.json'), JSON.stringify(state));
    const since = Date.now();
    server = await startServerProcess({ ...env, KINDLER_AUTO_REPAIR: 'non-destructive' });
    await waitUntil('the branch back', () => hasBranch('web'), {
      timeoutMs: 2 * INTERVAL_S * 1000 + 15_000,
      context,
    });
    console.log(`branch back ${((Date.now() - since) / 1000).toFixed(1)} s after start`);
    const [sync] = await syncs('web');
    expect(sync).toMatchObject({ actor: 'kindler', trigger_source: 'monitor' });
    await waitUntil('the sync done', async () => (await syncs('web'))[0]?.status === 'success', {
      context,
    });
    // The repair reports where the drift is tracked.
    const issue = drift()!;
    await waitUntil(
      'the status comment on the drift issue',
      () =>
        world.github.comments.find(
          (c) =>
            c.issue === issue.number && /sync web/.test(c.body) && /Done|succeeded/i.test(c.body),
        ),
      { context },
    );
    // …and as a check run on the config repository's head, like any operation.
    await waitUntil(
      'the check run of the repair',
      () =>
        world.github.checkRuns.find(
          (r) =>
            r.updates[0]?.head_sha === 'f'.repeat(40) && /web/.test(JSON.stringify(r.updates[0])),
        ),
      { context },
    );
    // The orphan stays, reported: a prune is never automatic.
    await waitUntil('the orphan on the drift issue', () => drift()?.body.includes('`stray`'), {
      timeoutMs: 3 * INTERVAL_S * 1000,
      context,
    });
    expect(world.fakes.state().k3d.stray).toBeDefined();
    const prunes = await client.query(`select id from operations where operation = 'prune'`);
    expect(prunes.rows).toEqual([]);
  }, 90_000);

  it('starts a cluster stopped by hand, then gives up on an environment repaired too often in an hour, saying so once', async () => {
    // The second automatic repair within the hour is still made (KINDLER_AUTO_REPAIR_MAX_PER_HOUR=2):
    // a cluster stopped behind the database's back (the row says ready) is started.
    const state = world.fakes.state();
    state.k3d.web!.running = false;
    fs.writeFileSync(path.join(world.fakes.stateDir, 'state.json'), JSON.stringify(state));
    const starts = async () =>
      (
        await client.query<{ actor: string; trigger_source: string; status: string }>(
          `select actor, trigger_source, status from operations
            where cluster_name = 'web' and operation = 'start'`,
        )
      ).rows;
    await waitUntil(
      'the cluster started again',
      async () =>
        (await starts())[0]?.status === 'success' && world.fakes.state().k3d.web?.running !== false,
      { timeoutMs: 3 * INTERVAL_S * 1000 + 10_000, context },
    );
    expect(await starts()).toEqual([
      { actor: 'kindler', trigger_source: 'monitor', status: 'success' },
    ]);
    // The third is not: left to a person, said once on the drift issue however many passes follow.
    git('update-ref', '-d', 'refs/heads/web');
    const issue = drift()!;
    const gaveUp = () =>
      world.github.comments.filter(
        (c) => c.issue === issue.number && c.body.startsWith('Automatic repair gave up on `web`'),
      );
    await waitUntil('the give-up comment', () => gaveUp().length > 0, {
      timeoutMs: 3 * INTERVAL_S * 1000,
      context,
    });
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_S * 1000));
    expect(gaveUp()).toHaveLength(1);
    expect(gaveUp()[0]!.body).toContain('`/env sync web`');
    expect(hasBranch('web')).toBe(false);
    expect(await syncs('web')).toHaveLength(1);
    expect(await starts()).toHaveLength(1);
    expect(alerts.filter((a) => a.event === 'gave_up')).toEqual([
      expect.objectContaining({ environment: 'web' }),
    ]);
    const metrics = await (await fetch(`${server!.base}/metrics`)).text();
    expect(metrics).toMatch(/kindler_reconcile_repairs_total\{outcome="damped"\} [1-9]/);
    expect(metrics).toMatch(/kindler_reconcile_passes_total\{drift="true"\} [1-9]/);
    expect(world.github.violations).toEqual([]);
  }, 90_000);
});
