// The statements this process sends to PostgreSQL through node-postgres, counted (every pool and
// client alike) until `restore`.
import pg from 'pg';

export function countStatements(): { readonly sent: number; restore(): void } {
  const query = pg.Client.prototype.query;
  let sent = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    sent++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return {
    get sent() {
      return sent;
    },
    restore: () => {
      pg.Client.prototype.query = query;
    },
  };
}
