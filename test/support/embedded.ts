// The embedded PostgreSQL a test's data dir started: stopped, and its cluster removed (as root it
// lives under /var/lib/kindler, outside the test's temporary directory).
import fs from 'node:fs';
import { embeddedCluster, stopEmbeddedPostgres } from '../../src/store/embedded-postgres.js';

export async function removeEmbedded(dataDir: string): Promise<void> {
  await stopEmbeddedPostgres(dataDir);
  const { dir, socketDir } = embeddedCluster(dataDir);
  for (const path of [dir, `${dir}.log`, socketDir])
    fs.rmSync(path, { recursive: true, force: true });
}

/**
 * The postmasters running for a cluster directory. A backend the postmaster forks carries its
 * command line until it names itself (`postgres: …`), so a process whose parent is one of them is
 * a backend being born, not a second server.
 */
export function postmasters(dataDir: string): number[] {
  const { dir } = embeddedCluster(dataDir);
  const matching = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const d = argv.indexOf('-D');
        if (!argv[0]?.endsWith('/postgres') || d <= 0 || argv[d + 1] !== dir) return [];
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return [{ pid: Number(p), ppid }];
      } catch {
        return [];
      }
    });
  const pids = new Set(matching.map((m) => m.pid));
  return matching.filter((m) => !pids.has(m.ppid)).map((m) => m.pid);
}
