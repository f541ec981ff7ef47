// Chooses the backend: PostgreSQL when DATABASE_URL is set, embedded PGlite under the data dir
// otherwise. Callers run migrate() themselves (the CLI and the server do, at start). An unreachable
// database is a Failure('degraded'): read-only commands fall back to the CSV snapshot.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { Failure } from '../domain/index.js';
import { PgDb } from './pg-db.js';
import { PgliteDb } from './pglite-db.js';
import { SqlStore } from './sql-store.js';
import type { AllocationRanges } from './environments.js';
import type { Store } from './store.js';

export function rangesFrom(config: Config): AllocationRanges {
  return {
    http: config.KINDLER_HTTP_PORTS,
    https: config.KINDLER_HTTPS_PORTS,
    pf: config.KINDLER_PF_PORTS,
    k3dNodePort: config.KINDLER_K3D_NODE_PORT,
    kindNodePorts: config.KINDLER_KIND_NODE_PORTS,
    subnetOctets: config.KINDLER_SUBNET_OCTETS,
  };
}

export async function openStore(config: Config): Promise<Store> {
  const ranges = rangesFrom(config);
  if (config.DATABASE_URL) {
    const store = new SqlStore(new PgDb(config.DATABASE_URL), ranges);
    try {
      await store.ping();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw new Failure(
        'degraded',
        `cannot reach PostgreSQL at ${describeUrl(config.DATABASE_URL)}: ${(error as Error).message}. To resolve, check DATABASE_URL and that the server is up`,
        undefined,
        { cause: error },
      );
    }
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
      `cannot open the embedded database in ${dir}: ${(error as Error).message}. To resolve, check that no other kindler process uses KINDLER_DATA_DIR`,
      undefined,
      { cause: error },
    );
  }
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
