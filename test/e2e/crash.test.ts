// Crash then resume: a real `kindler` child process is SIGKILLed at every step boundary of create
// and of delete; `kindler retry` converges to the same final state, nothing duplicated or orphaned.
// Also: two processes racing on one environment.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/registrars/haproxy-config.js';
import { PgDb } from '../../src/store/pg-db.js';
import { SqlStore } from '../../src/store/sql-store.js';
import { cliChild, cliInProcess, spawnCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

let fakes: Fakes;
let tmp: string;
let db: TestDatabase;
let client: pg.Client;
let env: Record<string, string>;
let restore: () => void;

beforeAll(async () => {
  fakes = setupFakes();
  restore = fakes.apply();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-crash-'));
  execFileSync('git', [
    'init',
    '--quiet',
    '--bare',
    '--initial-branch=main',
    path.join(tmp, 'gitops.git'),
  ]);
  fs.copyFileSync(
    path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
    path.join(tmp, 'haproxy.cfg'),
  );
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const store = new SqlStore(new PgDb(db.url));
  await store.migrate();
  await store.close();
  env = {
    ...fakes.env,
    DATABASE_URL: db.url,
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    GIT_REPO_URL: path.join(tmp, 'gitops.git'),
    HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
    KINDLER_RETRY_DELAYS_MS: 'none',
  };
  // Slow the cluster CLIs down so each boundary can be caught before the next step ends.
  for (const prefix of ['k3d', 'docker']) fakes.fail(prefix, { delayMs: 250 });
}, 60_000);
afterAll(async () => {
  await client.end();
  await db.drop();
  restore();
  fakes.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function killAfter(argv: string[], name: string, step: string) {
  const { child, done } = spawnCli(argv, env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await client.query(
      `select s.status from operation_steps s join operations o on o.id = s.operation_id
      where o.cluster_name = $1 and o.operation = $2 and s.step = $3 order by o.id desc limit 1`,
      [name, argv[0], step],
    );
    if (['done', 'skipped'].includes(rows.rows[0]?.status)) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`never saw ${step} done for ${name}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await done;
}

const lastOp = async (name: string) =>
  (
    await client.query(
      'select id, operation, status from operations where cluster_name = $1 order by id desc limit 1',
      [name],
    )
  ).rows[0];
const branches = () =>
  execFileSync(
    'git',
    [
      `--git-dir=${path.join(tmp, 'gitops.git')}`,
      'for-each-ref',
      '--format=%(refname:short)',
      'refs/heads',
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
const routes = () =>
  parseRoutes(fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8')).map((r) => r.name);

const CREATE = ['record', 'branch', 'cluster', 'portainer', 'argocd', 'haproxy', 'ready'];
const DELETE = ['cluster', 'portainer', 'argocd', 'haproxy', 'branch', 'record'];

describe('crash then resume', () => {
  it('a worker killed during a slow cluster create takes the create with it; retry finishes it', async () => {
    const name = 'c-slow';
    fakes.fail('k3d cluster create', { delayMs: 5_000 });
    const runningDir = path.join(fakes.stateDir, 'running');
    const creates = () =>
      (fs.existsSync(runningDir) ? fs.readdirSync(runningDir) : [])
        .filter((pid) => {
          try {
            return fs
              .readFileSync(path.join(runningDir, pid), 'utf8')
              .startsWith(`k3d cluster create ${name}`);
          } catch {
            return false;
          }
        })
        .map(Number);
    // Alive: the process exists and is not a zombie waiting for its reaper.
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const { child, done } = spawnCli(['create', name], env);
    const deadline = Date.now() + 30_000;
    while (creates().length === 0) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error('k3d cluster create never started');
      await new Promise((r) => setTimeout(r, 20));
    }
    const pids = creates();
    child.kill('SIGKILL');
    await done;
    const gone = Date.now() + 3_000;
    while (pids.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    expect(pids.filter(alive)).toEqual([]);
    fakes.fail('k3d cluster create', { delayMs: 250 });
    const result = await cliChild(['retry', name], env);
    expect(result.code, result.stderr).toBe(0);
    expect(fakes.state().k3d[name]).toBeDefined();
    expect((await lastOp(name)).status).toBe('success');
  });

  it.each(CREATE)('create killed after %s converges on retry', async (step) => {
    const name = `c-${step}`;
    await killAfter(['create', name], name, step);
    if ((await lastOp(name)).status !== 'success') {
      const result = await cliChild(['retry', name], env);
      expect(result.code, result.stderr).toBe(0);
    }
    const ops = (
      await client.query('select operation, status from operations where cluster_name = $1', [name])
    ).rows;
    expect(ops).toEqual([{ operation: 'create', status: 'success' }]);
    const row = (
      await client.query('select status, http_port, https_port from clusters where name = $1', [
        name,
      ])
    ).rows[0];
    expect(row.status).toBe('ready');
    expect(fakes.state().k3d[name]?.ports).toEqual([
      { host: row.http_port, container: 80 },
      { host: row.https_port, container: 443 },
    ]);
    expect(branches()).toContain(name);
    expect(routes().filter((r) => r === name)).toHaveLength(1);
  });

  it.each(DELETE)('delete killed after %s converges on retry', async (step) => {
    const name = `d-${step}`;
    expect((await cliInProcess(['create', name], env)).code).toBe(0);
    await killAfter(['delete', name], name, step);
    if ((await lastOp(name)).status !== 'success') {
      const result = await cliChild(['retry', name], env);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(
      (await client.query('select count(*)::int as n from clusters where name = $1', [name]))
        .rows[0].n,
    ).toBe(0);
    expect(fakes.state().k3d[name]).toBeUndefined();
    expect(fakes.state().networks[`k3d-${name}`]).toBeUndefined();
    expect(branches()).not.toContain(name);
    expect(routes()).not.toContain(name);
    expect(await lastOp(name)).toMatchObject({ operation: 'delete', status: 'success' });
  });

  it('a sync killed after its branch step resumes on retry: one sync operation, everything back', async () => {
    const name = 's-mid';
    const created = await cliInProcess(['create', name], env);
    expect(created.code).toBe(0);
    // A successful create prints where the environment answers (through the gateway, port 80).
    expect(created.stdout).toMatch(/^http:\/\/whoami\.s-mid\.[a-z0-9.-]+\n$/);
    // Each step's outcome is printed once (as it happened), not again in the summary.
    expect(created.stderr.match(/^ {2}✓ branch /gm)).toHaveLength(1);
    expect(created.stderr).toMatch(/^create #\d+ success/m);
    // Its branch and its cluster are lost.
    execFileSync('git', [`--git-dir=${path.join(tmp, 'gitops.git')}`, 'branch', '-D', name]);
    execFileSync('k3d', ['cluster', 'delete', name], { env: { ...process.env, ...env } });
    await killAfter(['sync', name], name, 'branch');
    expect(await lastOp(name)).toMatchObject({ operation: 'sync', status: 'running' });
    const result = await cliChild(['retry', name], env);
    expect(result.code, result.stderr).toBe(0);
    const ops = (
      await client.query(
        'select operation, status, attempt from operations where cluster_name = $1 order by id',
        [name],
      )
    ).rows;
    expect(ops).toEqual([
      { operation: 'create', status: 'success', attempt: 1 },
      // Resumed, not started again: the same operation and attempt, branch left done.
      { operation: 'sync', status: 'success', attempt: 1 },
    ]);
    expect(branches()).toContain(name);
    expect(fakes.state().k3d[name]).toBeDefined();
  });

  it('a create whose reader goes away (| head) still runs to its end', async () => {
    const name = 'c-pipe';
    const { child, done } = spawnCli(['create', name], env);
    // Read the first lines of progress, then close both pipes, as `2>&1 | head -3` would.
    await new Promise<void>((resolve) => child.stderr!.once('data', () => resolve()));
    child.stdout!.destroy();
    child.stderr!.destroy();
    const result = await done;
    expect(result.code).toBe(0);
    expect(await lastOp(name)).toMatchObject({ operation: 'create', status: 'success' });
    expect(fakes.state().k3d[name]).toBeDefined();
  });

  it('a half-created environment whose worker died can be deleted', async () => {
    await killAfter(['create', 'half'], 'half', 'branch');
    const result = await cliChild(['delete', 'half'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(
      (
        await client.query(
          'select operation, status, error_message from operations where cluster_name = $1 order by id',
          ['half'],
        )
      ).rows,
    ).toEqual([
      {
        operation: 'create',
        status: 'cancelled',
        error_message: 'superseded by a delete after its worker stopped',
      },
      { operation: 'delete', status: 'success', error_message: null },
    ]);
    expect(branches()).not.toContain('half');
  });
});

describe('two processes racing on one environment', () => {
  it('one creates it; the other is refused with the reason and changes nothing', async () => {
    const [a, b] = await Promise.all([
      cliChild(['create', 'race'], env),
      cliChild(['create', 'race'], env),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 3]);
    const loser = a.code === 3 ? a : b;
    expect(loser.stderr).toMatch(
      /^kindler create: environment "race" already exists \(k3d, status (creating|ready), created /m,
    );
    expect(
      (
        await client.query('select count(*)::int as n from operations where cluster_name = $1', [
          'race',
        ])
      ).rows[0].n,
    ).toBe(1);
  });

  it('a delete while a create runs is refused as busy', async () => {
    fakes.fail('k3d cluster create', { delayMs: 8_000 }); // long enough for a second CLI process to start on a busy machine
    const { child, done } = spawnCli(['create', 'busy'], env);
    for (;;) {
      const op = await lastOp('busy');
      if (op?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused = await cliChild(['delete', 'busy'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /^kindler delete: environment "busy" already has a create operation \(#\d+, running at (branch|cluster), started .+\); one operation runs at a time\nNext: kindler cancel busy$/m,
    );
    expect((await done).code).toBe(0);
    expect(child.exitCode).toBe(0);
    fakes.fail('k3d cluster create', { delayMs: 250 });
  });
});

describe('a failed create on a pipe', () => {
  it('says its error once, with the hint of its cause and the fix, and no log line', async () => {
    fakes.fail('k3d cluster create', {
      exit: 1,
      stderr: 'Bind for 0.0.0.0:18090 failed: port is already allocated',
    });
    try {
      const { code, stdout, stderr } = await cliChild(['create', 'portbusy'], env);
      expect(code).toBe(1);
      const said = `${stdout}${stderr}`;
      expect(said.split('port is already allocated').length - 1, said).toBe(1);
      expect(said.match(/To resolve/g), said).toHaveLength(1);
      expect(said).toContain(
        'To resolve, free the port the error names (another process or cluster holds it), or delete the environment and create it again for other ports, then run: kindler retry portbusy',
      );
      expect(said).not.toContain('Docker is running');
      // Nothing of the log reaches a pipe unless LOG_LEVEL or LOG_FORMAT asks for it.
      expect(said.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
      const asked = await cliChild(['retry', 'portbusy'], { ...env, LOG_LEVEL: 'info' });
      expect(asked.stderr.split('\n').some((l) => l.startsWith('{"level"'))).toBe(true);
    } finally {
      fakes.fail('k3d cluster create', { delayMs: 250 });
    }
  });
});
