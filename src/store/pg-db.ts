// PostgreSQL through node-postgres: a pool for queries, one client per transaction.
import pg from 'pg';
import type { Db, Queryable } from './db.js';

// Timestamps without time zone (the upstream columns) are read as UTC, like the rest.
pg.types.setTypeParser(
  pg.types.builtins.TIMESTAMP,
  (value) => new Date(`${value.replace(' ', 'T')}Z`),
);
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export class PgDb implements Db {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(
    readonly connectionString: string,
    options: { max?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: 5_000,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    const result = await this.pool.query(sql, params);
    return result.rows as R[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no listener of the pool's: a connection the server ends mid-way
    // (an outage, pg_terminate_backend) would be an unhandled 'error' and end the process. The
    // query under way rejects with it instead.
    let broken: Error | undefined;
    const ignore = (error: Error) => void (broken = error);
    client.on('error', ignore);
    try {
      await client.query('begin');
      const tx: Queryable = {
        query: async <R extends object>(sql: string, params: unknown[] = []) =>
          (await client.query(sql, params)).rows as R[],
      };
      const result = await fn(tx);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken); // a broken connection is closed, not handed out again
    }
  }

  /**
   * One connection of its own that only listens; lost, it connects again (a second later) until
   * the returned function is called. Notifications sent while it was away are not replayed.
   */
  async listen(
    channel: string,
    onMessage: (payload: string) => void,
  ): Promise<() => Promise<void>> {
    let closed = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.connectionString });
      c.on('notification', (m) => onMessage(m.payload ?? ''));
      c.on('error', () => {
        void c.end().catch(() => undefined);
        if (client === c) client = null;
        if (!closed) retry = setTimeout(() => void connect().catch(() => undefined), 1_000);
      });
      await c.connect();
      await c.query(`listen ${channel}`);
      if (closed) await c.end();
      else client = c;
    };
    await connect();
    return async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
