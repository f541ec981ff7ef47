// Throwaway databases for tests. withPostgresStore() creates a fresh database on the local server
// (KINDLER_TEST_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and drops it in
// cleanup; withPgliteStore() opens an embedded one in a temp dir. Neither depends on leftovers.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_RANGES, type AllocationRanges } from '../../src/store/environments.js';
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

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `kindler_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
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
