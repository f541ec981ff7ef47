// Runs the kindler CLI: in-process (runCli, so nock sees its HTTP) or as a real child process
// (crash tests: the bundled command, as `kindler` runs it), with an environment built from the
// fakes and a data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli/run.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cliInProcess(
  argv: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { ...process.env, ...env },
    cwd: ROOT,
  });
  return { code, stdout, stderr };
}

export function spawnCli(
  argv: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<CliResult> } {
  // The command as it ships: src/ bundled once per run by the global setup.
  const bundle = process.env.KINDLER_TEST_CLI;
  if (!bundle)
    throw new Error('KINDLER_TEST_CLI is unset: run under vitest (test/global-setup.ts)');
  const child = spawn(process.execPath, [bundle, ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }),
    ),
  );
  return { child, done };
}

export const cliChild = (argv: string[], env: Record<string, string>): Promise<CliResult> =>
  spawnCli(argv, env).done;
