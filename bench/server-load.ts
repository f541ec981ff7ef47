// The server as `npm start` runs it (its own process, with the start script's node options — a
// 512 MB heap limit, under which V8 sizes its heap for a constrained device and gives memory back
// — PostgreSQL, 1,000 environments), its memory after 10,000 requests to the dashboard and its
// API (pages of 200 environments) beside its memory idle: resident set size once the requests are
// answered and the process has been idle for 2 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PgDb } from '../src/store/pg-db.js';
import { SqlStore } from '../src/store/sql-store.js';
import { createTestDatabase } from '../test/support/db.js';
import { startServerProcess } from '../test/support/server-process.js';
import type { Figure } from './figure.js';
import { ROOT, buildDist, benchRows } from './process.js';
import { routeFigures } from './route-load.js';

export async function serverLoadFigures(requests = 10_000, rows = 1000): Promise<Figure[]> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-load-'));
  const store = new SqlStore(new PgDb(db.url));
  await store.migrate();
  await store.importRecords(
    benchRows(Array.from({ length: rows }, (_, i) => `env-${String(i).padStart(4, '0')}`)),
  );
  await store.close();
  // As `npm start` runs it: the node options of package.json's start script, over dist/.
  buildDist();
  const start = (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    }
  ).scripts.start.split(/\s+/);
  const server = await startServerProcess(
    { DATABASE_URL: db.url, KINDLER_DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'warn' },
    start.slice(1).map((a) => (a.startsWith('bin/') ? path.join(ROOT, a) : a)),
  );
  const settle = () => new Promise((r) => setTimeout(r, 2_000));
  try {
    // Warm: every route once, so what is loaded on first use counts as idle.
    const routes = [
      '/kindler/api/environments',
      '/kindler/api/environments?after=env-0500',
      '/kindler',
      '/kindler/environments/env-0042',
      '/kindler/api/environments/env-0042',
      '/kindler/api/operations?limit=50',
      '/kindler/api/consistency',
      '/healthz',
    ];
    for (const r of routes) await (await fetch(`${server.base}${r}`)).arrayBuffer();
    await settle();
    const idle = server.rss() / 2 ** 20;
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        const r = routes[next++ % routes.length] as string;
        const res = await fetch(`${server.base}${r}`);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${r} answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const seconds = (performance.now() - started) / 1000;
    await settle();
    const after = server.rss() / 2 ** 20;
    const measured = [
      '/kindler',
      '/kindler/api/environments',
      '/metrics',
      '/kindler/api/environments/env-0042',
    ];
    const routeRows = await routeFigures(server.base, measured, tmp);
    return [
      ...routeRows,
      {
        name: `server RSS idle, ${rows} environments, PostgreSQL`,
        value: idle,
        unit: 'MB',
        goal: '—',
      },
      {
        name: `server RSS after ${requests} dashboard and API requests (${Math.round(requests / seconds)} per second; ${(((after - idle) / idle) * 100).toFixed(0)} % over idle)`,
        value: after,
        unit: 'MB',
        goal: `≤ 1.2 × idle (${Math.round(idle * 1.2)} MB)`,
      },
    ];
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db.drop();
  }
}
