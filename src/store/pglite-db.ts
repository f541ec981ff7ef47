// Embedded PostgreSQL (PGlite, WASM) for the zero-configuration default. PGlite is a single
// connection, so transactions are serialised here: a query outside a transaction waits for it.
// The library is loaded when a PGlite database is opened, never by a process that uses another.
import type { PGlite } from '@electric-sql/pglite';
import { lockDataDir, type DataLock } from './data-lock.js';
import type { Db, Queryable } from './db.js';

/** What the queue (pg-boss's PGlite adapter) needs of the embedded database. */
export interface QueueConnection {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<{ rows: unknown[] }[]>;
  listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>>;
}

export class PgliteDb implements Db {
  readonly backend = 'pglite' as const;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly pg: PGlite,
    private readonly lock: DataLock | null,
  ) {}

  /**
   * `dataDir` is a directory (created if missing) or `memory://` for a throwaway database. A
   * directory is this process's until close(): another process holding it is refused (see
   * data-lock.ts).
   */
  static async open(dataDir: string): Promise<PgliteDb> {
    const lock = dataDir.startsWith('memory://') ? null : lockDataDir(dataDir);
    try {
      const { PGlite } = await import('@electric-sql/pglite');
      return new PgliteDb(await PGlite.create(dataDir), lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.serial(async () => (await this.pg.query<R>(sql, params)).rows);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.serial(() =>
      this.pg.transaction(async (t) =>
        fn({
          query: async <R extends object>(sql: string, params: unknown[] = []) =>
            (await t.query<R>(sql, params)).rows,
        }),
      ),
    );
  }

  async listen(
    channel: string,
    onMessage: (payload: string) => void,
  ): Promise<() => Promise<void>> {
    const unsubscribe = await this.pg.listen(channel, onMessage);
    return async () => {
      if (!this.pg.closed) await unsubscribe();
    };
  }

  /** The same single connection for the queue (pg-boss), its statements serialised with ours. */
  forQueue(): QueueConnection {
    return {
      query: <T>(sql: string, params?: unknown[]) =>
        this.serial(() => this.pg.query<T>(sql, params)),
      exec: (sql: string) => this.serial(() => this.pg.exec(sql)),
      listen: (channel: string, cb: (payload: string) => void) => this.pg.listen(channel, cb),
    };
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    if (!this.pg.closed) await this.pg.close();
    this.lock?.release();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
