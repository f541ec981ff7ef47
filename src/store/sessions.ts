// The console's signed-in browsers, kept in console_sessions so every replica knows them.
import type { Queryable } from './db.js';
import type { ConsoleSession } from './store.js';

export async function createSession(db: Queryable, s: ConsoleSession): Promise<void> {
  await db.query(
    `insert into console_sessions (id_hash, login, via, csrf, expires_at) values ` +
      `($1, $2, $3, $4, $5)`,
    [s.idHash, s.login, s.via, s.csrf, s.expiresAt.toISOString()],
  );
}

export async function getSession(db: Queryable, idHash: string): Promise<ConsoleSession | null> {
  const rows = await db.query<{
    id_hash: string;
    login: string;
    via: string;
    csrf: string;
    expires_at: Date | string;
  }>(
    'select id_hash, login, via, csrf, expires_at from console_sessions where id_hash = $1 and ' +
      'expires_at > now()',
    [idHash],
  );
  const row = rows[0];
  if (!row || (row.via !== 'github' && row.via !== 'token')) return null;
  return {
    idHash: row.id_hash,
    login: row.login,
    via: row.via,
    csrf: row.csrf,
    expiresAt: new Date(row.expires_at),
  };
}

export async function deleteSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('delete from console_sessions where id_hash = $1', [idHash]);
}
