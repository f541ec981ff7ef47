// Delivers the alerts recorded in the notifications outbox to KINDLER_NOTIFY_URL: each process
// looks every few seconds, claims what is due (one process per alert at a time), POSTs it as JSON,
// and keeps it — tried again later, later each time up to an hour — until the receiver answers 2xx.
import type { Store } from '../store/store.js';

const LEASE_MS = 30_000;
const BATCH = 20;

export class Notifier {
  constructor(
    private readonly store: Pick<Store, 'notifications'>,
    private readonly url: string,
    private readonly options: {
      timeoutMs?: number;
      redact: (text: string) => string;
      log?: (line: string) => void;
    },
  ) {}

  /** Sends what is due; how many were delivered. */
  async pass(): Promise<number> {
    let sent = 0;
    for (const n of await this.store.notifications.claim(LEASE_MS, BATCH)) {
      const error = await this.post(n.payload);
      if (error === null) {
        await this.store.notifications.settle(n.key, { sent: true });
        sent++;
        continue;
      }
      const delayMs = Math.min(3_600_000, 5_000 * 2 ** n.attempts);
      await this.store.notifications.settle(n.key, {
        error,
        retryAt: new Date(Date.now() + delayMs),
      });
      this.options.log?.(`alert ${n.key} not taken (${error}); tried again in ${delayMs / 1000} s`);
    }
    return sent;
  }

  /** null when taken (2xx); otherwise why not, without the URL (it is a credential). */
  private async post(payload: Record<string, unknown>): Promise<string | null> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `the receiver answered ${res.status}`;
    } catch (error) {
      return this.options.redact(`no answer: ${(error as Error).message}`);
    }
  }
}
