// A worker's name says where it runs (host and pid namespace), so a CLI run that finds an
// operation held by a dead process on this same machine can take it over at once instead of
// waiting for the lease to expire.
import fs from 'node:fs';
import os from 'node:os';

/**
 * Where this process runs, as far as a pid means anything: the host name and the pid namespace.
 * Replicas in containers on one host's network share its host name but not their pids (each has
 * its own namespace), so a pid alone would name two processes, or find the wrong one alive.
 */
export function machineId(host = os.hostname()): string {
  try {
    const ns = /\d+/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[0];
    return ns ? `${host}~${ns}` : host;
  } catch {
    return host;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); null where
 * /proc cannot tell. A pid and its start name one process: pids are reused within seconds on a busy
 * machine (pid_max 32768), the pair is not.
 */
export function processStart(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command in parentheses (which may hold spaces and parentheses).
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isInteger(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** `pid@start` (the pid alone where /proc cannot tell): one process on this machine. */
export function processTag(pid = process.pid): string {
  const start = processStart(pid);
  return start === null ? String(pid) : `${pid}@${start}`;
}

/** `kind:host:pid@start`: a worker, by where it runs and which process it is. */
export const workerName = (kind: string, pid = process.pid, host = machineId()): string =>
  `${kind}:${host}:${processTag(pid)}`;

export function ownerAlive(owner: string, host = machineId()): boolean {
  const match = /^[a-z-]+:(.+):(\d+)(?:@(\d+))?$/.exec(owner);
  // Another machine, or another namespace of this one: only its lease tells. A name written before
  // namespaces were kept (the host alone) is judged here, as it was then.
  const here = match && (match[1] === host || match[1] === host.replace(/~\d+$/, ''));
  if (!match || !here) return true;
  const pid = Number(match[2]);
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid is taken; by the same process only if it started when the name says.
  if (match[3] === undefined) return true;
  const start = processStart(pid);
  return start === null || start === Number(match[3]);
}
