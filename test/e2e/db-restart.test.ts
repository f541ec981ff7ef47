// A `kindler sync` whose database stops in the middle: the operation it was running is handed
// back at its step, the command says it is waiting, and once the database answers again (any
// `kindler` call starts the embedded one) it takes the operation up where it stopped and runs the
// rest — each cluster created once, every sync a success, no stack trace. Past
// KINDLER_DB_WAIT_SECONDS it exits 4 saying what to run; nothing is half-done.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliChild, spawnCli } from '../support/cli.js';
import { removeEmbedded } from '../support/embedded.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

describe('a database that restarts under a CLI sync', () => {
  let fakes: Fakes;
  let tmp: string;
  let env: Record<string, string>;

  /** The fake k3d loses these clusters: a sync recreates each one. */
  const dropClusters = (...names: string[]) => {
    const state = fakes.state();
    for (const name of names) delete state.k3d[name];
    fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
  };
  const creates = (name: string) =>
    fakes.argv().filter((a) => a[0] === 'k3d' && a[2] === 'create' && a[3] === name).length;

  beforeAll(async () => {
    fakes = setupFakes();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-dbrestart-'));
    env = {
      ...fakes.env,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      DATABASE_URL: '',
      KINDLER_DB: 'embedded',
      KINDLER_RETRY_DELAYS_MS: 'none',
      KINDLER_DB_WAIT_SECONDS: '60',
    };
    for (const name of ['a1', 'a2', 'a3']) {
      const made = await cliChild(['create', name], env);
      expect(made.code, made.stderr).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await removeEmbedded(path.join(tmp, 'data'));
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('waits for it and resumes where it stopped', async () => {
    dropClusters('a1', 'a2', 'a3');
    fakes.clearArgv();
    // Each cluster takes a moment to create: long enough to stop the database meanwhile.
    fakes.fail('k3d cluster create', { delayMs: 1500 });
    const sync = spawnCli(['sync'], env);
    let stderr = '';
    sync.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await expect.poll(() => stderr, { timeout: 30_000 }).toMatch(/sync a1: operation #\d+/);
    await new Promise((r) => setTimeout(r, 500));
    const stopped = await cliChild(['db', 'stop'], env);
    expect(stopped.stdout).toMatch(/: stopped\.\n$/);
    await expect
      .poll(() => stderr, { timeout: 30_000 })
      .toContain('The database stopped answering; waiting for it to take');
    // Any call starts the embedded database again.
    expect((await cliChild(['list'], env)).code).toBe(0);
    const done = await sync.done;
    expect(done.stderr).not.toMatch(/\n\s+at /);
    expect(done.code, done.stderr + done.stdout).toBe(0);
    expect(done.stdout).toMatch(/a1/);
    for (const name of ['a1', 'a2', 'a3']) expect(creates(name)).toBe(1);
    const check = await cliChild(['check', '--json'], env);
    expect(check.code, check.stdout).toBe(0);
  }, 120_000);

  it('past KINDLER_DB_WAIT_SECONDS it exits 4 saying how to resume, with no stack trace', async () => {
    dropClusters('a2');
    fakes.fail('k3d cluster create', { delayMs: 1500 });
    const sync = spawnCli(['sync', 'a2'], { ...env, KINDLER_DB_WAIT_SECONDS: '2' });
    let stderr = '';
    sync.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await expect.poll(() => stderr, { timeout: 30_000 }).toMatch(/sync a2: operation #\d+/);
    await new Promise((r) => setTimeout(r, 500));
    expect((await cliChild(['db', 'stop'], env)).code).toBe(0);
    const done = await sync.done;
    expect(done.code).toBe(4);
    expect(done.stderr).toMatch(
      /the database stopped answering while sync #\d+ of "a2" ran, and did not answer again within 2 s\. Nothing is half-done/,
    );
    expect(done.stderr).toContain('Next: kindler retry a2');
    expect(done.stderr).not.toMatch(/\n\s+at /);
    // The database back, the retry takes it up at its step.
    fakes.clearFailures();
    const retried = await cliChild(['retry', 'a2'], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect((await cliChild(['check', '--json'], env)).code).toBe(0);
  }, 120_000);
});
