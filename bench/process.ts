// Whole processes, as users run them: the build the installed entry runs from, and one process's
// wall time and peak RSS (GNU time's maximum resident set size).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnvironmentRecord } from '../src/store/store.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** dist/ current with src/, as `npm start` and bin/kindler.js need it. */
export function buildDist(): void {
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT },
  );
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT });
}

/** Runs `argv` once to its end (exit code `exit`): wall time (ms) and peak RSS (MB). */
export function timeProcess(argv: string[], env: Record<string, string> = {}, exit = 0) {
  const out = path.join(os.tmpdir(), `kindler-bench-time-${process.pid}`);
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK %M', '-o', out, ...argv], {
    cwd: ROOT,
    env: withThisNode({ ...process.env, ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== exit)
    throw new Error(`${argv.join(' ')} exited ${r.status}, not ${exit}: ${r.stderr}`);
  const ms = performance.now() - started;
  const peakMb = Number(fs.readFileSync(out, 'utf8').match(/PEAK (\d+)/)?.[1] ?? 0) / 1024;
  fs.rmSync(out, { force: true });
  return { ms, peakMb };
}

/** Consistent k3d rows for `names`: distinct ports, no subnet (what the benches read). */
export const benchRows = (names: string[]): EnvironmentRecord[] =>
  names.map((name, i) => ({
    name,
    provider: 'k3d' as const,
    subnet: null,
    nodePort: 30080,
    pfPort: 40000 + i,
    httpPort: 20000 + i,
    httpsPort: 31000 + i,
    registerPortainer: true,
    haproxyRoute: true,
  }));

/**
 * The `kindler` command as installed: bin/kindler.js (over dist/) started by its own `#!` line, as
 * a shell starts it (with the node flags that line gives), this Node first on PATH.
 */
export const kindler = (args: string[]): string[] => [path.join(ROOT, 'bin/kindler.js'), ...args];

/** `env` with this process's Node first on PATH (the one `#!/usr/bin/env node` finds). */
export const withThisNode = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`,
});
