// The allocator under real concurrency: separate connections (PostgreSQL) racing on inserts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Failure, envName } from '../../src/domain/index.js';
import { PgDb } from '../../src/store/pg-db.js';
import { SqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase, withPgliteStore, type TestDatabase } from '../support/db.js';

function assertDistinct(
  envs: { httpPort: number; httpsPort: number; pfPort: number; subnet: string | null }[],
) {
  const ports = envs.flatMap((e) => [e.httpPort, e.httpsPort, e.pfPort]);
  expect(new Set(ports).size).toBe(ports.length);
  const subnets = envs.map((e) => e.subnet).filter((s) => s !== null);
  expect(new Set(subnets).size).toBe(subnets.length);
}

describe('allocation on PostgreSQL with 50 connections', () => {
  let db: TestDatabase;
  let stores: Store[];
  beforeAll(async () => {
    db = await createTestDatabase();
    stores = Array.from({ length: 50 }, () => new SqlStore(new PgDb(db.url, { max: 1 })));
    await stores[0]!.migrate();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  it('50 concurrent inserts with distinct names: 50 rows, no shared port or subnet, the lowest values', async () => {
    const envs = await Promise.all(
      stores.map((s, i) =>
        s.insertEnvironment({ name: envName(`env-${i}`), provider: i % 5 === 0 ? 'kind' : 'k3d' }),
      ),
    );
    const rows = await stores[0]!.listEnvironments();
    expect(rows).toHaveLength(50);
    assertDistinct(rows);
    expect(rows.map((r) => r.httpPort).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => 18090 + i),
    );
    expect(
      rows
        .filter((r) => r.provider === 'kind')
        .map((r) => r.nodePort)
        .sort(),
    ).toEqual([30081, 30082, 30083, 30084, 30085, 30086, 30087, 30088, 30089, 30090]);
    expect(rows.filter((r) => r.provider === 'k3d').every((r) => r.nodePort === 30080)).toBe(true);
    expect(envs.map((e) => e.name).sort()).toEqual(rows.map((r) => r.name).sort());
  });

  it('20 concurrent inserts of one name: exactly one wins, the rest get "already exists"', async () => {
    const results = await Promise.allSettled(
      stores
        .slice(0, 20)
        .map((s) => s.insertEnvironment({ name: envName('same'), provider: 'k3d' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as Failure);
    expect(refused).toHaveLength(19);
    for (const f of refused) {
      expect(f).toBeInstanceOf(Failure);
      expect(f.code).toBe('already_exists');
      expect(f.message).toMatch(
        /^environment "same" already exists \(k3d, status creating, created /,
      );
    }
    expect((await stores[0]!.listEnvironments()).filter((e) => e.name === 'same')).toHaveLength(1);
  });

  it('refuses clearly when a range is exhausted, and changes nothing', async () => {
    const small = new SqlStore(new PgDb(db.url, { max: 1 }), {
      http: { from: 18090, to: 18090 },
      https: { from: 18443, to: 18999 },
      pf: { from: 19000, to: 19999 },
      k3dNodePort: 30080,
      kindNodePorts: { from: 30081, to: 32767 },
      subnetOctets: { from: 101, to: 254 },
    });
    const error = await small
      .insertEnvironment({ name: envName('one-more'), provider: 'k3d' })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'no free value left in 18090-18090. To resolve, widen KINDLER_HTTP_PORTS or delete environments you no longer need',
    );
    expect(await small.getEnvironment('one-more')).toBeNull();
    await small.close();
  });
});

describe('allocation on PGlite', () => {
  it('50 concurrent inserts are serialised without collisions', async () => {
    const { store, cleanup } = await withPgliteStore();
    try {
      await store.migrate();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.insertEnvironment({ name: envName(`p-${i}`), provider: 'k3d' }),
        ),
      );
      const rows = await store.listEnvironments();
      expect(rows).toHaveLength(50);
      assertDistinct(rows);
      const same = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          store.insertEnvironment({ name: envName('same'), provider: 'kind' }),
        ),
      );
      expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });
});
