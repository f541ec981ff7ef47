// The embedded default before was PGlite in <data dir>/pglite. Its data moves, once, into the
// embedded PostgreSQL that replaced it: every table row for row (as JSON, so that each value keeps
// PostgreSQL's own text form), the serial sequences moved past the imported ids. The old directory
// is then renamed, never deleted. Two processes starting at once import it once (an advisory lock,
// and only into an empty database).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Db, Queryable } from './db.js';
import { migrate } from './migrate.js';
import { PgliteDb } from './pglite-db.js';

/**
 * Parents before children; the queue's own tables are not moved (operations are adopted at start).
 */
const TABLES = [
  'clusters',
  'operations',
  'operation_steps',
  'webhook_deliveries',
  'kindler_state',
  'github_writes',
] as const;
const SEQUENCES = [
  ['clusters', 'seq'],
  ['operations', 'id'],
  ['github_writes', 'id'],
] as const;
const IMPORT_LOCK = 4_242_017;

async function holdsData(db: Queryable): Promise<boolean> {
  const [held] = await db.query<{ n: number }>(
    'select (select count(*) from clusters) + (select count(*) from operations) as n',
  );
  return Number(held?.n) > 0;
}

export interface PgliteImport {
  /** Rows moved, by table. */
  rows: Record<string, number>;
  /** Where the PGlite directory was moved to. */
  keptAs: string;
}

/** Imports <data dir>/pglite into `target` when it exists and the target holds nothing yet. */
export async function importPglite(
  dataDir: string,
  target: Db,
  now = new Date(),
): Promise<PgliteImport | null> {
  const source = path.join(dataDir, 'pglite');
  if (!fs.existsSync(path.join(source, 'PG_VERSION'))) return null;
  // Only here, with something to import, does opening the store need the schema first.
  await migrate(target);
  if (await holdsData(target)) return null; // checked again under the lock
  const old = await PgliteDb.open(source);
  let rows: Record<string, number> | null;
  try {
    await migrate(old);
    rows = await target.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
      if (await holdsData(tx)) return null;
      const moved: Record<string, number> = {};
      for (const table of TABLES) {
        const [dump] = await old.query<{ rows: unknown }>(
          `select coalesce(json_agg(t), '[]'::json)::text as rows from ${table} t`,
        );
        const text = z.object({ rows: z.string() }).parse(dump).rows;
        await tx.query(
          `insert into ${table} select * from json_populate_recordset(null::${table}, $1::json)`,
          [text],
        );
        moved[table] = z.array(z.unknown()).parse(JSON.parse(text)).length;
      }
      for (const [table, column] of SEQUENCES)
        await tx.query(
          `select setval(pg_get_serial_sequence('${table}', '${column}'),
                         coalesce((select max(${column}) from ${table}), 0) + 1, false)`,
        );
      return moved;
    });
  } finally {
    await old.close();
  }
  if (!rows) return null;
  const keptAs = `${source}.imported-${now.toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(source, keptAs);
  return { rows, keptAs };
}
