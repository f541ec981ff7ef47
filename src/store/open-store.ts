// Chooses the backend: PostgreSQL at DATABASE_URL when it is set; otherwise the embedded
// PostgreSQL under the data dir (started by whoever needs it first, shared by the server and every
// CLI call), or PGlite in the process with KINDLER_DB=pglite. Callers run migrate() themselves (the
// CLI and the server do, at start). An unreachable database is a Failure('degraded'): read-only
// commands fall back to the CSV snapshot.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { loadSites } from '../config/sites.js';
import { Failure, messageOf } from '../domain/index.js';
import { describeCluster, ensureEmbeddedPostgres } from './embedded-postgres.js';
import { PgDb } from './pg-db.js';
import { PgliteDb } from './pglite-db.js';
import { SqlStore } from './sql-store.js';
import type { AllocationRanges } from './allocation.js';
import type { Store } from './store.js';

/** The configuration's ranges, and each site's own (replaced when other sites are declared). */
export function rangesFrom(
  config: Config,
  sites = loadSites(config.KINDLER_SITES),
): AllocationRanges {
  return {
    http: config.KINDLER_HTTP_PORTS,
    https: config.KINDLER_HTTPS_PORTS,
    pf: config.KINDLER_PF_PORTS,
    k3dNodePort: config.KINDLER_K3D_NODE_PORT,
    kindNodePorts: config.KINDLER_KIND_NODE_PORTS,
    subnetOctets: config.KINDLER_SUBNET_OCTETS,
    // Each declared site's own ranges (a bad file stopped the start already).
    sites: Object.fromEntries(sites.map((s) => [s.name, s.ranges])),
  };
}

export async function openStore(config: Config, ranges = rangesFrom(config)): Promise<Store> {
  if (config.DATABASE_URL)
    return reach(
      config.DATABASE_URL,
      ranges,
      `PostgreSQL at ${describeUrl(config.DATABASE_URL)}`,
      'check DATABASE_URL and that the server is up',
    );
  if (config.KINDLER_DB === 'embedded') {
    const cluster = await ensureEmbeddedPostgres(config.dataDir);
    const store = await reach(
      cluster.url,
      ranges,
      describeCluster(cluster),
      'run `kindler db stop`, then try again',
    );
    await store.importPglite(config.dataDir);
    return store;
  }
  const dir = path.join(config.dataDir, 'pglite');
  await fs.mkdir(dir, { recursive: true });
  try {
    return new SqlStore(await PgliteDb.open(dir), ranges);
  } catch (error) {
    if (error instanceof Failure) throw error; // held by another process: it says which
    throw new Failure(
      'degraded',
      `cannot open the embedded database in ${dir}: ${(error as Error).message}. ` +
        `To resolve, check that no other kindler process uses KINDLER_DATA_DIR`,
      undefined,
      { cause: error },
    );
  }
}

async function reach(
  url: string,
  ranges: AllocationRanges,
  what: string,
  fix: string,
): Promise<SqlStore> {
  const store = new SqlStore(new PgDb(url), ranges);
  try {
    await store.ping();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new Failure(
      'degraded',
      `cannot reach ${what}: ${messageOf(error)}. To resolve, ${fix}`,
      undefined,
      { cause: error },
    );
  }
  return store;
}

/** host:port/db of a connection string, never its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
