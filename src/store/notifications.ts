// The notifications outbox (table notifications): an alert is recorded once under its key (a change
// of state), claimed by one process at a time, and kept until the receiver took it — a process
// killed between the claim and the answer leaves it to the next claim once its lease runs out.
import type { Queryable } from './db.js';

export interface Notification {
  key: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export interface NotificationStore {
  /** Records an alert under `key`; false when one was recorded under it already. */
  record(key: string, payload: Record<string, unknown>): Promise<boolean>;
  /** Alerts due to be sent, each leased to the caller for `leaseMs`. */
  claim(leaseMs: number, limit: number): Promise<Notification[]>;
  /** Delivered; or not, to be tried again at `retryAt` with why. */
  settle(key: string, outcome: { sent: true } | { error: string; retryAt: Date }): Promise<void>;
  /** Alerts not yet delivered, and the oldest of them (for the console and /metrics). */
  pending(): Promise<{ count: number; oldest: Date | null }>;
}

export class NotificationTable implements NotificationStore {
  constructor(private readonly db: Queryable) {}

  async record(key: string, payload: Record<string, unknown>): Promise<boolean> {
    const rows = await this.db.query<{ key: string }>(
      `insert into notifications (key, payload) values ($1, $2::jsonb)
       on conflict (key) do nothing returning key`,
      [key, JSON.stringify(payload)],
    );
    return rows.length > 0;
  }

  async claim(leaseMs: number, limit: number): Promise<Notification[]> {
    return this.db.query<Notification>(
      `update notifications set lease_until = now() + $1::float8 * interval '1 millisecond'
        where key in (
          select key from notifications
           where sent_at is null and next_at <= now()
             and (lease_until is null or lease_until < now())
           order by created_at limit $2 for update skip locked)
        returning key, payload, attempts`,
      [leaseMs, limit],
    );
  }

  async settle(
    key: string,
    outcome: { sent: true } | { error: string; retryAt: Date },
  ): Promise<void> {
    if ('sent' in outcome)
      await this.db.query(
        `update notifications set sent_at = now(), lease_until = null, attempts = attempts + 1,
           last_error = null where key = $1`,
        [key],
      );
    else
      await this.db.query(
        `update notifications set lease_until = null, attempts = attempts + 1, last_error = $2,
           next_at = $3 where key = $1`,
        [key, outcome.error.slice(0, 500), outcome.retryAt],
      );
  }

  async pending(): Promise<{ count: number; oldest: Date | null }> {
    const [row] = await this.db.query<{ count: string; oldest: Date | null }>(
      'select count(*) as count, min(created_at) as oldest from notifications ' +
        'where sent_at is null',
    );
    return { count: Number(row?.count ?? 0), oldest: row?.oldest ?? null };
  }
}
