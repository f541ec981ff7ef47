// node-postgres under an outage: a connection the server ends while a transaction holds it (the
// database shut down, pg_terminate_backend) fails that transaction — it never ends the process.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailable } from '../../src/domain/errors.js';
import { PgDb } from '../../src/store/pg-db.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/db.js';
import { rejection } from '../support/rejection.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

describe('PgDb', () => {
  it('a connection ended in the middle of a transaction rejects it, and the next query gets a fresh one', async () => {
    const pgdb = new PgDb(db.url, { max: 1 });
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const name = new URL(db.url).pathname.slice(1);
      const held = pgdb.transaction(async (tx) => {
        await tx.query('select 1');
        await tx.query('select pg_sleep(10)');
      });
      // Wait until the transaction's backend is sleeping, then end it as an outage would.
      for (;;) {
        const { rows } = await admin.query(
          "select pid from pg_stat_activity where datname = $1 and query like 'select pg_sleep%'",
          [name],
        );
        if (rows.length) {
          await admin.query('select pg_terminate_backend($1)', [rows[0].pid]);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const error = await rejection(held);
      expect(error).toBeInstanceOf(DatabaseUnavailable);
      expect(error.message).toMatch(/^the database did not answer: .*terminat/);
      // The broken connection was not handed out again: the one-connection pool still works.
      expect(await pgdb.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await pgdb.close();
    }
  });

  it('refused connections say the database is unavailable; what the server answers to SQL does not', async () => {
    const pgdb = new PgDb(db.url, { max: 1 });
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const name = new URL(db.url).pathname.slice(1);
    try {
      const mistake = await rejection(pgdb.query('select * from no_such_table'));
      expect(mistake).not.toBeInstanceOf(DatabaseUnavailable);
      expect(mistake.message).toMatch(/no_such_table/);
      await pgdb.close();
      await admin.query(`alter database "${name}" allow_connections false`);
      const closed = new PgDb(db.url, { max: 1 });
      const refused = await rejection(closed.transaction(async (tx) => tx.query('select 1')));
      expect(refused).toBeInstanceOf(DatabaseUnavailable);
      expect(refused.message).toMatch(/not currently accepting connections/);
      await admin.query(`alter database "${name}" allow_connections true`);
      expect(await closed.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
      await closed.close();
    } finally {
      await admin.query(`alter database "${name}" allow_connections true`);
      await admin.end();
    }
  });

  it('a test database dropped while a pool still holds connections says so (the leak check)', async () => {
    const leaky = await createTestDatabase();
    const pool = new PgDb(leaky.url);
    await pool.query('select 1');
    expect((await rejection(leaky.drop())).message).toMatch(
      /^the test left 1 connection\(s\) open to its database \(a pool, queue or worker not closed\): node-postgres \(idle\)$/,
    );
    await pool.close().catch(() => undefined);
  });
});
