// The default set-up as a new user runs it: no DATABASE_URL, so the server and every CLI call share
// the embedded PostgreSQL under the data dir — whoever starts first starts it, nobody opens a
// database behind another's back, and what one writes the others read at once. Real processes
// (src/main.ts and src/cli/main.ts under tsx), the k3d/docker fakes on PATH.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { binDir, ensureEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { cliChild, cliInProcess } from '../support/cli.js';
import { postmasters, removeEmbedded } from '../support/embedded.js';
import { setupFakes } from '../support/fakes.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const fakes = setupFakes();
const dirs: string[] = [];
let server: ServerProcess | null = null;

function dataDir(): { dir: string; env: Record<string, string> } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-default-'));
  dirs.push(tmp);
  const dir = path.join(tmp, 'data');
  return { dir, env: { ...fakes.env, KINDLER_DATA_DIR: dir, DATABASE_URL: '', KINDLER_DB: '' } };
}

afterEach(async () => {
  await server?.stop();
  server = null;
});
afterAll(async () => {
  for (const tmp of dirs) {
    await removeEmbedded(path.join(tmp, 'data'));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fakes.cleanup();
});

const json = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.json() as Promise<Record<string, unknown>>;
};

describe('the default set-up: the server and the CLI share one embedded PostgreSQL', () => {
  it('a create from the CLI while the server runs is what the dashboard, its API and the CLI show', async () => {
    const { dir, env } = dataDir();
    server = await startServerProcess(env);
    const create = await cliChild(['create', 'shared1'], env);
    expect(create.code).toBe(0);
    expect(create.stderr).toContain('create #1 success');
    expect(create.stdout).toContain('http://whoami.shared1.127.0.0.1.sslip.io:18090');

    const api = await json(`${server.base}/kindler/api/environments`);
    expect(api.environments).toEqual([
      expect.objectContaining({
        name: 'shared1',
        provider: 'k3d',
        status: 'ready',
        httpPort: 18090,
      }),
    ]);
    const ops = await json(`${server.base}/kindler/api/operations`);
    expect(ops.operations).toEqual([
      expect.objectContaining({ id: 1, kind: 'create', envName: 'shared1', status: 'success' }),
    ]);
    const page = await fetch(`${server.base}/kindler/environments/shared1`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('shared1');

    const status = await cliChild(['status', 'shared1', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      environment: { name: 'shared1', status: 'ready' },
      operation: { id: 1, kind: 'create', status: 'success' },
    });
    // One PostgreSQL for all of them: the server started it, the CLI calls joined it.
    expect(postmasters(dir)).toHaveLength(1);
  });

  it('whatever order they start in: CLI calls first (three at once), then the server', async () => {
    const { dir, env } = dataDir();
    const lists = await Promise.all([1, 2, 3].map(() => cliChild(['list'], env)));
    for (const r of lists) expect([r.code, r.stderr]).toEqual([0, '']);
    expect(postmasters(dir)).toHaveLength(1);
    expect((await cliChild(['create', 'early1'], env)).code).toBe(0);
    server = await startServerProcess(env);
    const api = await json(`${server.base}/kindler/api/environments`);
    expect(api.environments).toEqual([
      expect.objectContaining({ name: 'early1', status: 'ready' }),
    ]);
    expect(postmasters(dir)).toHaveLength(1);
  });

  it('`kindler db status|stop` says where it is and stops it; the next call starts it again', async () => {
    const { dir, env } = dataDir();
    expect((await cliInProcess(['list'], env)).code).toBe(0);
    const [pid] = postmasters(dir);
    const running = await cliInProcess(['db', 'status'], env);
    expect(running.code).toBe(0);
    expect(running.stdout).toMatch(
      new RegExp(`^the embedded PostgreSQL in \\S+: running \\(pid ${pid}\\)\\.\\n$`),
    );
    expect((await cliInProcess(['db', 'stop'], env)).stdout).toMatch(/: stopped\.\n$/);
    expect(postmasters(dir)).toEqual([]);
    expect((await cliInProcess(['db', 'status'], env)).stdout).toMatch(/: stopped\.\n$/);
    expect((await cliInProcess(['db', 'stop'], env)).stdout).toMatch(/: was not running\.\n$/);
    expect((await cliInProcess(['list'], env)).code).toBe(0);
    expect(postmasters(dir)).toHaveLength(1);
    const bad = await cliInProcess(['db', 'restart'], env);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toBe(
      'kindler db: expected "status" or "stop"\nUsage: kindler db status|stop\n',
    );
    const pg = await cliInProcess(['db', 'stop'], {
      ...env,
      DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
    });
    expect(pg.stdout).toBe('No embedded PostgreSQL is used: DATABASE_URL is set.\n');
  });

  it('a data dir the PGlite default made keeps its environments and operations, moved once', async () => {
    const { dir, env } = dataDir();
    const pglite = { ...env, KINDLER_DB: 'pglite' };
    expect((await cliChild(['create', 'old1'], pglite)).code).toBe(0);
    expect((await cliChild(['delete', 'old1'], pglite)).code).toBe(0);
    expect((await cliChild(['create', 'old2'], pglite)).code).toBe(0);
    const list = await cliInProcess(['list', '--json'], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ environments: [{ name: 'old2' }] });
    expect(JSON.parse(list.stdout).environments).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'pglite'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('pglite.imported-'))).toHaveLength(1);
    // Ids go on after the imported ones: the next operation is #4, not #1 again.
    const next = await cliChild(['create', 'new1', '--json'], env);
    expect(next.code).toBe(0);
    expect(
      JSON.parse((await cliInProcess(['status', 'new1', '--json'], env)).stdout),
    ).toMatchObject({
      operation: { id: 4, kind: 'create', status: 'success' },
    });
    expect(
      JSON.parse((await cliInProcess(['status', 'old2', '--json'], env)).stdout),
    ).toMatchObject({
      environment: { name: 'old2', status: 'ready' },
      operation: { id: 3, kind: 'create', status: 'success' },
    });
  });

  it.runIf(process.getuid?.() === 0)(
    'as root, a cluster an ordinary user made in the data dir is joined as that user, not duplicated',
    async () => {
      const { dir, env } = dataDir();
      // The user's cluster: what their own `kindler` made in <data dir>/postgres (initdb as them).
      fs.mkdirSync(dir, { recursive: true });
      for (let d = dir; d !== path.dirname(os.tmpdir()); d = path.dirname(d))
        fs.chmodSync(d, 0o755);
      fs.chownSync(dir, 65534, 65534);
      const initdb = path.join(binDir()!, 'initdb');
      execFileSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          '--',
          initdb,
          '-D',
          path.join(dir, 'postgres'),
          '-U',
          'postgres',
          '--auth=trust',
          '--no-instructions',
        ],
        { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } },
      );
      const cluster = await ensureEmbeddedPostgres(dir);
      expect(cluster.dir).toBe(path.join(dir, 'postgres'));
      expect(cluster.owner).toBe('65534:65534');
      const [pid] = postmasters(dir);
      expect(fs.statSync(`/proc/${pid}`).uid).toBe(65534);
      expect((await cliInProcess(['list'], env)).code).toBe(0);
      expect(postmasters(dir)).toEqual([pid]);
    },
  );
});
