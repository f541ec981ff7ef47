// What the container pieces share: how long a CLI call may take (and its cancel), and whether a
// container of bootstrap's runs, read with `docker inspect` (null: there is none).
import { z } from 'zod';
import { run, runAllowingFailure, type RunOptions } from '../system/exec.js';
import { parseJsonAnswer } from '../system/parse.js';
import type { BootstrapContext } from './piece.js';

export const cliOptions = (ctx: BootstrapContext): RunOptions => ({
  timeoutMs: ctx.config.KINDLER_CLI_TIMEOUT_MS,
  ...(ctx.signal ? { signal: ctx.signal } : {}),
});

export async function containerRunning(
  ctx: BootstrapContext,
  name: string,
): Promise<boolean | null> {
  const result = await runAllowingFailure(
    'docker',
    ['inspect', '--format', '{{json .State.Running}}', name],
    cliOptions(ctx),
  );
  if (result.exitCode !== 0) {
    if (/No such (object|container)/i.test(result.stderr)) return null;
    throw new Error(`docker inspect ${name} exited ${result.exitCode}: ${result.stderr.trim()}`);
  }
  return parseJsonAnswer(z.boolean(), result.stdout.trim(), `docker inspect ${name}`);
}

/**
 * The container `name` running: run from `image` with `args` when there is none (restarted with
 * the Docker daemon), started when it is stopped; what was done.
 */
export async function ensureContainer(
  ctx: BootstrapContext,
  name: string,
  image: string,
  args: string[],
): Promise<'started' | 'restarted' | 'running'> {
  const state = await containerRunning(ctx, name);
  if (state === true) return 'running';
  if (state === false) {
    await run('docker', ['start', name], cliOptions(ctx));
    return 'restarted';
  }
  await run(
    'docker',
    ['run', '-d', '--name', name, '--restart', 'unless-stopped', ...args, image],
    cliOptions(ctx),
  );
  return 'started';
}
