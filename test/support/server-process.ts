// The bot as `npm start` runs it, as a real child process (src/main.ts under tsx): its own pid,
// memory, logger and signals. It listens on a free port (PORT=0, read from the start-up banner)
// and is ready when /readyz says so.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Peak resident memory (VmHWM) in bytes since start or the last `resetPeak()`. */
  peakRss(): number;
  rss(): number;
  /** Resets the kernel's peak-RSS counter (clear_refs 5), so the next peak is this phase's. */
  resetPeak(): void;
  /** SIGTERM (graceful) or SIGKILL, and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const status = (pid: number, field: string): number => {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
};

export async function startServerProcess(
  env: Record<string, string>,
  /** The node arguments; the default runs src/main.ts under tsx. */
  args: string[] = ['--import', 'tsx', path.join(ROOT, 'src/main.ts')],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  let base = '';
  while (!base) {
    const m = output.match(/listening on (http:\/\/\S+)/);
    if (m) base = m[1]!;
    else if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the server did not start:\n${output}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  for (;;) {
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the server never became ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    child,
    base,
    output: () => output,
    peakRss: () => status(pid, 'VmHWM'),
    rss: () => status(pid, 'VmRSS'),
    resetPeak: () => fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
