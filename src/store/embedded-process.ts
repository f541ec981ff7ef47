// The embedded server's process: commands run as the data directory's owner, whether it answers,
// its postmaster's pid.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { run } from '../system/exec.js';

export async function runAsOwner(cluster: EmbeddedCluster, file: string, args: string[]) {
  const [command, ...prefix] = [...cluster.runAs, file];
  await run(command as string, [...prefix, ...args], {
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
    timeoutMs: 120_000,
  });
}

/** True when the server takes a connection and answers a query. */
export async function answers(cluster: EmbeddedCluster): Promise<boolean> {
  if (!fs.existsSync(path.join(cluster.socketDir, `.s.PGSQL.${PORT}`))) return false;
  const client = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The postmaster's pid from postmaster.pid, when the file is there. */
export function postmasterPid(cluster: EmbeddedCluster): number | null {
  try {
    const first = fs.readFileSync(path.join(cluster.dir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0) would signal our own group
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const PORT = 5432;

export interface EmbeddedCluster {
  /** The cluster's data directory (PGDATA). */
  dir: string;
  /** Where its socket is. */
  socketDir: string;
  /** The command prefix that runs a program as the cluster's owner ([] when that is this user). */
  runAs: string[];
  /** `uid:gid` of the cluster's owner when it is not this user (we are root), for chown. */
  owner: string | null;
  /** node-postgres's connection string for it. */
  url: string;
}
