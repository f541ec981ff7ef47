// A worker's name says where it runs, so a CLI run that finds an operation held by a dead process
// on this same machine can take it over at once instead of waiting for the lease to expire.
import os from 'node:os';

export const workerName = (kind: string, pid = process.pid, host = os.hostname()): string =>
  `${kind}:${host}:${pid}`;

export function ownerAlive(owner: string, host = os.hostname()): boolean {
  const match = /^[a-z-]+:(.+):(\d+)$/.exec(owner);
  if (!match || match[1] !== host) return true; // another machine: only its lease tells
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
