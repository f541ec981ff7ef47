// Small JSON documents in kindler_state, each read back through its key's schema (state-key.ts).
import type { z } from 'zod';
import type { Queryable } from './db.js';
import type { StateKey } from './state-key.js';

const parse = <S extends z.ZodType>(key: StateKey<S>, row: { value: unknown } | undefined) => {
  if (!row) return null;
  const parsed = key.schema.safeParse(row.value);
  return parsed.success ? (parsed.data as z.output<S>) : null;
};

export async function getState<S extends z.ZodType>(
  db: Queryable,
  key: StateKey<S>,
): Promise<z.output<S> | null> {
  const rows = await db.query<{ value: unknown }>(
    'select value from kindler_state where key = $1',
    [key.name],
  );
  return parse(key, rows[0]);
}

export async function setState<S extends z.ZodType>(
  db: Queryable,
  key: StateKey<S>,
  value: z.input<S>,
): Promise<void> {
  await db.query(
    `insert into kindler_state (key, value, updated_at) values ($1, $2::jsonb, now())
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [key.name, JSON.stringify(value)],
  );
}

export async function takeState<S extends z.ZodType>(
  db: Queryable,
  key: StateKey<S>,
): Promise<z.output<S> | null> {
  const rows = await db.query<{ value: unknown }>(
    'delete from kindler_state where key = $1 returning value',
    [key.name],
  );
  return parse(key, rows[0]);
}

export async function forgetStates(
  db: Queryable,
  prefix: string,
  olderThan: Date,
): Promise<number> {
  // The prefix is matched literally: LIKE's wildcards in it are escaped.
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.query<{ key: string }>(
    'delete from kindler_state where key like $1 and updated_at < $2 returning key',
    [pattern, olderThan],
  );
  return rows.length;
}

export async function claimTurn(db: Queryable, name: string, everyMs: number): Promise<boolean> {
  const rows = await db.query<{ key: string }>(
    `insert into kindler_state (key, value, updated_at) values ($1, '{}'::jsonb, now())
     on conflict (key) do update set updated_at = now()
       where kindler_state.updated_at <= now() - $2::float8 * interval '1 millisecond'
     returning key`,
    [`turn:${name}`, everyMs],
  );
  return rows.length > 0;
}

/** The entries `names` of the document `key` (an object keyed by name), as stored. */
export async function getStateEntries(
  db: Queryable,
  key: string,
  names: string[],
): Promise<Record<string, unknown>> {
  if (names.length === 0) return {};
  const rows = await db.query<{ name: string; value: unknown }>(
    `select e.key as name, e.value from kindler_state s, jsonb_each(s.value) e
      where s.key = $1 and jsonb_typeof(s.value) = 'object' and e.key = any($2::text[])`,
    [key, names],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}
