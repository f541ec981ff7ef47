// The CLI as users run it — a whole process through the installed entry (bin/kindler.js, dist/
// current) — beside yardsticks measured in the same run: `node -e 0` for the floor of any Node
// command, `psql` reading the same 1,000 rows for a read. Wall time and peak RSS, median of 5.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PgDb } from '../src/store/pg-db.js';
import { SqlStore } from '../src/store/sql-store.js';
import { createTestDatabase } from '../test/support/db.js';
import type { Figure } from './figure.js';
import { buildDist, kindler, median, timeProcess, benchRows } from './process.js';
import { USAGE } from '../src/cli/help.js';

const RUNS = 5;
const ROWS = 1000;
const BIG = 10_000;

/** Wall time (ms) and peak RSS (MB) of a whole process, median of RUNS. */
function measure(argv: string[], env: Record<string, string> = {}) {
  const runs = Array.from({ length: RUNS }, () => timeProcess(argv, env));
  return { ms: median(runs.map((r) => r.ms)), mb: median(runs.map((r) => r.peakMb)) };
}

export async function floorFigures(): Promise<Figure[]> {
  buildDist();
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-floor-'));
  const store = new SqlStore(new PgDb(db.url));
  try {
    await store.migrate();
    await store.importRecords(benchRows(Array.from({ length: ROWS }, (_, i) => `env-${i}`)));
    await store.close();
    const env = { DATABASE_URL: db.url, KINDLER_DATA_DIR: path.join(tmp, 'data') };
    measure(kindler(['list']), env); // the data dir's local repository is made once
    const node = measure([process.execPath, '-e', '0']);
    const help = measure(kindler(['--help']), env);
    const list = measure(kindler(['list']), env);
    const status = measure(kindler(['status', 'env-500']), env);
    // Every command's floor: its arguments refused (exit 2) before anything is opened.
    const floors = Object.keys(USAGE).map((command) => ({
      command,
      ms: median(
        Array.from(
          { length: RUNS },
          () => timeProcess(kindler([command, '--no-such-option']), env, 2).ms,
        ),
      ),
    }));
    const slowest = floors.reduce((a, b) => (b.ms > a.ms ? b : a));
    const psql = measure(['psql', db.url, '-c', 'select * from clusters']);
    // 10,000 rows: the list streams (a cursor, written as read), beside psql over the same rows.
    const more = new SqlStore(new PgDb(db.url));
    await more.importRecords(
      benchRows(Array.from({ length: BIG - ROWS }, (_, i) => `env-${ROWS + i}`)).map((r, i) => ({
        ...r,
        pfPort: 50000 + i,
        httpPort: 10000 + i,
        httpsPort: 21000 + i,
      })),
    );
    await more.close();
    const bigList = measure(kindler(['list', '--json']), env);
    const bigPsql = measure(['psql', db.url, '-c', 'select * from clusters']);
    const times = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
    return [
      {
        name: `yardstick: \`psql\` reading ${BIG} rows, wall`,
        value: bigPsql.ms,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `\`kindler list --json\`, ${BIG} rows, PostgreSQL, wall (${times(bigList.ms, bigPsql.ms)} psql)`,
        value: bigList.ms,
        unit: 'ms',
        goal: `≤ 5 × psql (${Math.round(5 * bigPsql.ms)} ms)`,
      },
      {
        name: `\`kindler list --json\`, ${BIG} rows, peak RSS`,
        value: bigList.mb,
        unit: 'MB',
        goal: '< 100 MB',
      },
      { name: 'yardstick: `node -e 0`, wall (median of 5)', value: node.ms, unit: 'ms', goal: '—' },
      {
        name: `\`kindler --help\`, wall (${times(help.ms, node.ms)} node -e 0)`,
        value: help.ms,
        unit: 'ms',
        goal: `≤ 3 × node -e 0 (${Math.round(3 * node.ms)} ms)`,
      },
      {
        name: `every command's floor (its arguments refused before anything opens), slowest: \`kindler ${slowest.command}\` (${times(slowest.ms, node.ms)} node -e 0; ${floors.length} commands)`,
        value: slowest.ms,
        unit: 'ms',
        goal: `≤ 3 × node -e 0 (${Math.round(3 * node.ms)} ms)`,
      },
      {
        name: `yardstick: \`psql\` reading the ${ROWS} rows, wall`,
        value: psql.ms,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `\`kindler list\`, ${ROWS} rows, PostgreSQL, wall (${times(list.ms, psql.ms)} psql)`,
        value: list.ms,
        unit: 'ms',
        goal: `≤ 5 × psql (${Math.round(5 * psql.ms)} ms)`,
      },
      { name: '`kindler list`, peak RSS', value: list.mb, unit: 'MB', goal: '< 100 MB' },
      {
        name: `\`kindler status\`, ${ROWS} rows, PostgreSQL, wall (${times(status.ms, psql.ms)} psql)`,
        value: status.ms,
        unit: 'ms',
        goal: `≤ 5 × psql (${Math.round(5 * psql.ms)} ms)`,
      },
      { name: '`kindler status`, peak RSS', value: status.mb, unit: 'MB', goal: '< 100 MB' },
    ];
  } finally {
    await store.close().catch(() => undefined);
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
