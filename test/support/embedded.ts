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

/** The postmasters running for a cluster directory (its children name themselves otherwise). */
export function postmasters(dataDir: string): number[] {
  const { dir } = embeddedCluster(dataDir);
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const d = argv.indexOf('-D');
        return Boolean(argv[0]?.endsWith('/postgres')) && d > 0 && argv[d + 1] === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}
