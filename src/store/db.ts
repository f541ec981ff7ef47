// The smallest surface both backends share: parameterised queries and transactions. Everything
// above it (migrations, the SQL store) is written once and runs on PostgreSQL and PGlite alike.

export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` with each NOTIFY on `channel` (a constant name, never input), from any
   * process writing to this database, until the returned function is called.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
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
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|ECONNREFUSED/i.test(
    message,
  );
}
