// The embedded database is one process's at a time. While the server (here: this test process)
// holds ./data, a CLI call never opens it behind its back: reads answer from the CSV snapshot,
// marked degraded; changes are refused naming the holder; nothing is written. A lock left by a
// process that died is taken over.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { cliChild } from '../support/cli.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

let tmp: string;
let fakes: Fakes;
let env: Record<string, string>;
let holder: Runtime | null = null;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-lock-'));
  fakes = setupFakes();
  env = {
    ...fakes.env,
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    DATABASE_URL: '',
    KINDLER_DB: 'pglite',
  };
});
afterEach(async () => {
  await holder?.close();
  holder = null;
  fakes.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const openHolder = async () => {
  const config = loadConfig(
    { KINDLER_DATA_DIR: env.KINDLER_DATA_DIR!, KINDLER_DB: 'pglite', LOG_LEVEL: 'silent' },
    tmp,
  );
  const rt = await openRuntime(config);
  await rt.store.migrate();
  return rt;
};

describe('one process on PGlite (KINDLER_DB=pglite)', () => {
  it('a CLI call beside the holder reads the snapshot, refuses changes, and writes nothing', async () => {
    holder = await openHolder();
    await holder.store.insertEnvironment({ name: 'held1' as never, provider: 'k3d' });
    await holder.refreshSnapshot();
    const before = fs.readdirSync(path.join(tmp, 'data', 'pglite')).sort();

    const list = await cliChild(['list'], env);
    expect(list.code).toBe(4);
    expect(list.stdout).toContain('held1');
    expect(list.stderr + list.stdout).toContain(
      `in use by another kindler process (pid ${process.pid}`,
    );

    const create = await cliChild(['create', 'new1'], env);
    expect(create.code).toBe(4);
    expect(create.stderr).toContain('two processes on one embedded database lose data');
    expect(create.stderr).toContain('DATABASE_URL');
    expect(fakes.argv()).toEqual([]); // no cluster CLI ran
    expect(fs.readdirSync(path.join(tmp, 'data', 'pglite')).sort()).toEqual(before);
    expect((await holder.store.listEnvironments()).map((e) => e.name)).toEqual(['held1']);

    // Released, the next call opens it and sees the holder's rows.
    await holder.close();
    holder = null;
    const after = await cliChild(['list', '--json'], env);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).environments.map((e: { name: string }) => e.name)).toEqual([
      'held1',
    ]);
  });

  it('a lock left by a process that died is taken over', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const pid = Number(dead.stdout);
    const dir = path.join(tmp, 'data', 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'kindler.lock'),
      JSON.stringify({ pid, host: os.hostname(), command: 'main.ts', since: '2026-01-01' }),
    );
    const list = await cliChild(['list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'kindler.lock'))).toBe(false); // released at exit
  });
});
