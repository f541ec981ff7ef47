// What a version of an environment's configuration costs: the bytes of its row (pg_column_size of
// the whole row, and the table with its index per version), and the time to record one, measured
// on PostgreSQL over an environment with as many versions as are kept, and an update request
// (row, operation, version in one transaction) with instant systems.
import pg from 'pg';
import { envName } from '../src/domain/index.js';
import { trigger } from './lifecycle.js';
import { Engine } from '../src/lifecycle/engine.js';
import { KEEP_VERSIONS } from '../src/store/versions.js';
import { fakeSystems } from '../test/support/fake-steps.js';
import { withPostgresStore } from '../test/support/db.js';
import type { Figure } from './figure.js';

export async function versionFigures(): Promise<Figure[]> {
  const { store, url, cleanup } = await withPostgresStore();
  try {
    await store.migrate();
    const engine = new Engine({ store, handlers: fakeSystems().handlers, retryDelaysMs: [] });
    const name = envName('bench-versions');
    const created = await engine.request({ kind: 'create', name, provider: 'k3d', trigger });
    await engine.execute(created.id, { owner: 'bench:1' });
    // Updates that alternate the route: each one an operation and a version.
    const times: number[] = [];
    for (let i = 0; i < KEEP_VERSIONS; i++) {
      const start = performance.now();
      const op = await engine.request({
        kind: 'update',
        name,
        patch: { haproxyRoute: i % 2 === 1 },
        confirm: false,
        trigger,
      });
      times.push(performance.now() - start);
      await engine.execute(op.id, { owner: 'bench:1' });
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ n: string; avg: string; max: string; total: string }>(
      `select count(*) as n, avg(pg_column_size(v.*)) as avg, max(pg_column_size(v.*)) as max,
              pg_total_relation_size('environment_versions') as total
         from environment_versions v`,
    );
    await client.end();
    const row = rows[0]!;
    times.sort((a, b) => a - b);
    return [
      {
        name: 'a version: its row (largest of 200)',
        value: Number(row.max),
        unit: 'bytes',
        goal: 'one row, a few hundred bytes',
      },
      {
        name: 'a version: table and index per version (200 kept)',
        value: Number(row.total) / Number(row.n),
        unit: 'bytes',
        goal: '—',
      },
      {
        name: 'an update request (row, operation, version: one transaction), median',
        value: times[Math.floor(times.length / 2)]!,
        unit: 'ms',
        goal: '—',
      },
    ];
  } finally {
    await cleanup();
  }
}
