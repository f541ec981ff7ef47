// PostgreSQL through node-postgres: a pool for queries, one client per transaction.
import pg from 'pg';
import { DatabaseUnavailable } from '../domain/errors.js';
import { isUnreachable, type Db, type Queryable } from './db.js';

// Timestamps without time zone (the upstream columns) are read as UTC, like the rest.
pg.types.setTypeParser(
  pg.types.builtins.TIMESTAMP,
  (value) => new Date(`${value.replace(' ', 'T')}Z`),
);
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export class PgDb implements Db {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  /** The listening connections open, each ended by its function. */
  private readonly listeners = new Set<() => Promise<void>>();

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
    return this.withClient((run) => run<R>(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.withClient(async (run) => {
      await run('begin');
      try {
        const result = await fn({ query: run });
        await run('commit');
        return result;
      } catch (error) {
        await run('rollback').catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * One pooled connection for `fn`. The database's absence — refused or timed-out connects, a
   * connection ended mid-way (an outage, pg_terminate_backend), the server saying it is shutting
   * down or starting up — rejects as DatabaseUnavailable, so callers retry or hand work back rather
   * than call it a failure of theirs.
   */
  private async withClient<T>(
    fn: (run: <R extends object>(sql: string, params?: unknown[]) => Promise<R[]>) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new DatabaseUnavailable(error);
    }
    // A checked-out client has no listener of the pool's: a lost connection would be an unhandled
    // 'error' and end the process. The query under way rejects with it instead.
    let broken: Error | undefined;
    const lost = (error: Error) => void (broken = error);
    client.on('error', lost);
    const run = async <R extends object>(sql: string, params: unknown[] = []): Promise<R[]> => {
      try {
        return (await client.query(sql, params)).rows as R[];
      } catch (error) {
        if (broken || isUnreachable(error)) throw new DatabaseUnavailable(error);
        throw error;
      }
    };
    try {
      return await fn(run);
    } finally {
      client.off('error', lost);
      client.release(broken); // a broken connection is closed, not handed out again
    }
  }

  /**
   * One connection of its own that only listens. Lost (a restart, a terminated backend, refused
   * connections), it connects again with backoff (0.5 s doubling to 15 s) for as long as it takes,
   * until the returned function is called; `onResync` is told each time it is back, since what was
   * notified while it was away is not replayed.
   */
  async listen(
    channel: string,
    onMessage: (payload: string) => void,
    onResync?: () => void,
    onLost?: () => void,
  ): Promise<() => Promise<void>> {
    let closed = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.connectionString });
      // Until it listens, a failure is the connect's to report (it is tried again from there);
      // after, losing the connection starts the reconnecting.
      let listening = false;
      let lost = false;
      const whenLost = () => {
        if (!listening || lost) return;
        lost = true;
        onLost?.();
        void c.end().catch(() => undefined);
        if (client === c) client = null;
        again(0);
      };
      c.on('error', whenLost);
      c.on('end', whenLost);
      c.on('notification', (m) => onMessage(m.payload ?? ''));
      try {
        await c.connect();
        await c.query(`listen ${channel}`);
      } catch (error) {
        void c.end().catch(() => undefined);
        throw error;
      }
      if (closed) return void (await c.end().catch(() => undefined));
      listening = true;
      client = c;
    };
    const again = (attempt: number) => {
      if (closed) return;
      retry = setTimeout(
        () =>
          void connect().then(
            () => onResync?.(),
            () => again(attempt + 1),
          ),
        Math.min(15_000, 500 * 2 ** attempt),
      );
      retry.unref?.();
    };
    await connect();
    const stop = async () => {
      closed = true;
      this.listeners.delete(stop);
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
    this.listeners.add(stop);
    return stop;
  }

  /** Ends the pool and every listening connection still open. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((stop) => stop()));
    await this.pool.end();
  }
}
