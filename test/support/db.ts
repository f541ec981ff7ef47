// Throwaway databases for tests. withPostgresStore() creates a fresh database on the local server
// (KINDLER_TEST_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and drops it in
// cleanup; withPgliteStore() opens an embedded one in a temp dir. Neither depends on leftovers.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_RANGES, type AllocationRanges } from '../../src/store/allocation.js';
import { PgDb } from '../../src/store/pg-db.js';
import { PgliteDb } from '../../src/store/pglite-db.js';
import { SqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/store.js';

export const ADMIN_URL =
  process.env.KINDLER_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database, already migrated (cloned from the run's template, test/global-setup.ts), or
 * `empty` for tests of the migrations themselves.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `kindler_test_${crypto.randomBytes(6).toString('hex')}`;
  const template = options.empty ? undefined : process.env.KINDLER_TEST_TEMPLATE;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
        break;
      } catch (error) {
        // Another clone of the template is being made at this instant: PostgreSQL says so (55006).
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    /**
     * Drops the database. Whatever is still connected to it when the test is done — a pool, a
     * queue or a worker nobody closed — is a leak: the database is dropped all the same, and the
     * drop fails saying what was left open.
     */
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        const left = async () =>
          (
            await c.query<{ backend: string }>(
              `select coalesce(nullif(application_name, ''), 'node-postgres') || ' (' ||
                      coalesce(state, '?') || ')' as backend
                 from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
              [name],
            )
          ).rows.map((r) => r.backend);
        // A pool being closed lets go of its connections a moment later.
        let open = await left();
        for (let i = 0; open.length && i < 40; i++) {
          await new Promise((r) => setTimeout(r, 50));
          open = await left();
        }
        await c.query(`drop database if exists ${name} with (force)`);
        if (open.length)
          throw new Error(
            `the test left ${open.length} connection(s) open to its database (a pool, queue or worker not closed): ${open.join(', ')}`,
          );
      } finally {
        await c.end();
      }
    },
  };
}

export interface OpenedStore {
  store: Store;
  url?: string;
  dataDir?: string;
  cleanup(): Promise<void>;
}

export async function withPostgresStore(
  ranges: AllocationRanges = DEFAULT_RANGES,
): Promise<OpenedStore> {
  const db = await createTestDatabase();
  const store = new SqlStore(new PgDb(db.url), ranges);
  return {
    store,
    url: db.url,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      await db.drop();
    },
  };
}

export async function withPgliteStore(
  ranges: AllocationRanges = DEFAULT_RANGES,
): Promise<OpenedStore> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kindler-pglite-'));
  const store = new SqlStore(await PgliteDb.open(dataDir), ranges);
  return {
    store,
    dataDir,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS = [
  ['postgres', withPostgresStore],
  ['pglite', withPgliteStore],
] as const;
