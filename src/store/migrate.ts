// Applying the migrations: under an advisory lock, each in its own transaction, recorded once;
// several processes may call it at once.
import type { Db } from './db.js';
import { MIGRATIONS } from './migrations.js';

/** Any constant: the key of the advisory lock that serialises migrators. */
export const MIGRATION_LOCK = 7_100_401;

/** Applies what is pending; returns the versions it applied (empty when up to date). */
export async function migrate(db: Db): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`create table if not exists kindler_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set(
      (await tx.query<{ version: string }>('select version from kindler_migrations')).map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('insert into kindler_migrations (version) values ($1)', [migration.version]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** True when every known migration has been applied (readiness). */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  const rows = await db
    .query<{ version: string }>('select version from kindler_migrations')
    .catch(() => []);
  const done = new Set(rows.map((r) => r.version));
  return MIGRATIONS.every((m) => done.has(m.version));
}
