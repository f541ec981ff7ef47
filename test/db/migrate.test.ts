// Migrations on real PostgreSQL: idempotent, safe when five processes start at once, and an
// upstream Kindler database upgrades in place with every row and column kept.
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgDb } from '../../src/store/pg-db.js';
import { SqlStore } from '../../src/store/sql-store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let dbs: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  dbs = [];
});
const fresh = async () => {
  const db = await createTestDatabase({ empty: true });
  dbs.push(db);
  return db;
};

async function schema(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const cols =
      await c.query(`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
      where table_schema = 'public' order by table_name, column_name`);
    const idx = await c.query(
      `select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`,
    );
    return [
      ...cols.rows.map((r) => Object.values(r).join('|')),
      ...idx.rows.map((r) => `${r.indexname}|${r.indexdef}`),
    ];
  } finally {
    await c.end();
  }
}

const ALL = [
  '001_kindler_schema',
  '002_clusters_insertion_order',
  '003_github_writes',
  '004_github_writes_by_operation',
  '005_pull_request_deploys',
  '006_live_events',
  '007_console_sessions',
  '008_actor_via',
  '009_github_limits',
  '010_notifications',
  '011_environment_versions',
  '012_update',
  '013_batches',
  '014_sites',
  '015_node_size',
  '016_changed_events',
  '017_changed_rows',
];

describe('migrations', () => {
  it('applies once; a second run changes nothing', async () => {
    const db = await fresh();
    const store = new SqlStore(new PgDb(db.url));
    expect(await store.migrate()).toEqual(ALL);
    const before = await schema(db.url);
    expect(await store.migrate()).toEqual([]);
    expect(await schema(db.url)).toEqual(before);
    await store.close();
  });

  it('five concurrent migrators all succeed and the schema is applied once', async () => {
    const db = await fresh();
    const stores = Array.from({ length: 5 }, () => new SqlStore(new PgDb(db.url, { max: 1 })));
    const results = await Promise.all(stores.map((s) => s.migrate()));
    expect(results.flat()).toEqual(ALL);
    await Promise.all(stores.map((s) => s.close()));
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    expect((await c.query('select count(*)::int as n from kindler_migrations')).rows[0].n).toBe(
      ALL.length,
    );
    await c.end();
  });

  it('upgrades an upstream Kindler database in place, rows and columns intact', async () => {
    const db = await fresh();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    // scripts/init_database.sh, upstream [PG] commit 4d3fbe4
    await c.query(`CREATE TABLE IF NOT EXISTS clusters (
      name VARCHAR(63) PRIMARY KEY,
      provider VARCHAR(10) NOT NULL CHECK (provider IN ('k3d','kind')),
      subnet CIDR, node_port INT NOT NULL, pf_port INT NOT NULL,
      http_port INT NOT NULL, https_port INT NOT NULL,
      server_ip VARCHAR(45),
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
      CREATE INDEX IF NOT EXISTS idx_clusters_provider ON clusters(provider);
      CREATE INDEX IF NOT EXISTS idx_clusters_created_at ON clusters(created_at);
      CREATE TABLE IF NOT EXISTS tasks (task_id VARCHAR(64) PRIMARY KEY, status VARCHAR(20) NOT NULL,
        progress INT DEFAULT 0, message TEXT, logs TEXT, error TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);`);
    await c.query(`INSERT INTO clusters (name, provider, subnet, node_port, pf_port, http_port, https_port, server_ip, created_at) VALUES
      ('devops','k3d',NULL,30800,19000,23800,23843,'172.18.0.2','2025-10-30 08:00:00'),
      ('dev','k3d','10.101.0.0/16',30080,19001,18090,18443,'10.101.0.2','2025-10-30 08:01:00'),
      ('uat','k3d','10.102.0.0/16',30080,19002,18091,18444,'10.102.0.2','2025-10-30 08:02:00'),
      ('prod','k3d','10.103.0.0/16',30080,19003,18092,18445,NULL,'2025-10-30 08:03:00')`);
    await c.query(`INSERT INTO tasks (task_id, status) VALUES ('t1', 'done')`);
    const upstreamColumns = (
      await c.query(`select column_name, data_type, character_maximum_length from information_schema.columns
      where table_name = 'clusters' order by ordinal_position`)
    ).rows;
    const rowsBefore = (await c.query('select * from clusters order by name')).rows;

    const store = new SqlStore(new PgDb(db.url));
    expect(await store.migrate()).toEqual(ALL);

    const columnsAfter = (
      await c.query(`select column_name, data_type, character_maximum_length from information_schema.columns
      where table_name = 'clusters' order by ordinal_position`)
    ).rows;
    expect(columnsAfter.slice(0, upstreamColumns.length)).toEqual(upstreamColumns);
    const upstreamNames = upstreamColumns.map((r) => r.column_name).join(', ');
    expect((await c.query(`select ${upstreamNames} from clusters order by name`)).rows).toEqual(
      rowsBefore,
    );
    expect((await c.query('select count(*)::int as n from tasks')).rows[0].n).toBe(1);

    expect(
      (await store.listEnvironments()).map((e) => [
        e.name,
        e.status,
        e.httpPort,
        e.subnet,
        e.serverIp,
      ]),
    ).toEqual([
      ['dev', 'ready', 18090, '10.101.0.0/16', '10.101.0.2'],
      ['uat', 'ready', 18091, '10.102.0.0/16', '10.102.0.2'],
      ['prod', 'ready', 18092, '10.103.0.0/16', null],
    ]);
    const dev = await store.getEnvironment('dev');
    expect(dev?.createdAt.toISOString()).toBe('2025-10-30T08:01:00.000Z');
    await store.close();
    await c.end();
  });
});
