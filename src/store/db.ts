// The smallest surface both backends share: parameterised queries and transactions. Everything
// above it (migrations, the SQL store) is written once and runs on PostgreSQL and PGlite alike.
import { isDatabaseUnavailable } from '../domain/errors.js';

export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` with each NOTIFY on `channel` (a constant name, never input), from any
   * process writing to this database, until the returned function is called. A listener that
   * lost its connection calls `onLost`, and `onResync` once it is back: what was notified
   * meanwhile is lost.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onResync?: () => void,
    onLost?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The PostgreSQL error code of a failed query (e.g. 23505 unique_violation), if it has one. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The constraint a unique violation hit, if the driver says. */
export function pgConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/**
 * True when the error says the database cannot be reached (refused, reset, timed out, shut down,
 * connection lost) rather than that a query was wrong: the caller may fall back to the snapshot.
 */
export function isUnreachable(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  const code = pgCode(error);
  if (code && (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03'))
    return true;
  // The database refuses connections (ALTER DATABASE … ALLOW_CONNECTIONS false, or it is gone).
  if (code === '3D000') return true;
  if (code === '55000' && /not currently accepting connections/.test(String(error))) return true;
  if (
    code &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE'].includes(code)
  )
    return true;
  const message = error instanceof Error ? error.message : String(error);
  return [
    /Connection terminated|connection timeout|ECONNREFUSED/i,
    /timeout exceeded when trying to connect|Client has encountered a connection error/i,
  ].some((pattern) => pattern.test(message));
}

/**
 * A transaction seen as a database: what runs through it is part of the transaction, and a nested
 * `transaction` is a savepoint (rolled back alone when it throws, so a refused step of a larger
 * change — a unique violation caught and answered — does not poison the rest).
 */
export class TxDb implements Db {
  private savepoints = 0;

  constructor(
    private readonly tx: Queryable,
    readonly backend: Db['backend'],
  ) {}

  query<R extends object>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.tx.query<R>(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const name = `kindler_sp_${++this.savepoints}`;
    await this.tx.query(`savepoint ${name}`);
    try {
      const result = await fn(this.tx);
      await this.tx.query(`release savepoint ${name}`);
      return result;
    } catch (error) {
      await this.tx.query(`rollback to savepoint ${name}`).catch(() => undefined);
      throw error;
    }
  }

  listen(): Promise<() => Promise<void>> {
    return Promise.reject(new Error('a transaction cannot listen'));
  }

  async close(): Promise<void> {
    // The transaction's owner ends it.
  }
}
