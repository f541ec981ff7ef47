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

export const workerName = (kind: string, pid = process.pid, host = machineId()): string =>
  `${kind}:${host}:${pid}`;

export function ownerAlive(owner: string, host = machineId()): boolean {
  const match = /^[a-z-]+:(.+):(\d+)$/.exec(owner);
  // Another machine, or another namespace of this one: only its lease tells. A name written before
  // namespaces were kept (the host alone) is judged here, as it was then.
  const here = match && (match[1] === host || match[1] === host.replace(/~\d+$/, ''));
  if (!match || !here) return true;
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
