// Work that outlives a webhook's answer (check, sync, prune, the drift monitor): tracked, so a
// shutdown can wait for it, and never an unhandled rejection.
import type { Runtime } from '../runtime.js';

export class Background {
  private readonly running = new Set<Promise<void>>();
  constructor(private readonly onError: (error: unknown) => void) {}

  readonly run = (task: () => Promise<void>): void => {
    const p = task().catch(this.onError).finally(() => this.running.delete(p));
    this.running.add(p);
  };

  async drain(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}

/**
 * Claims this round of a periodic job for one process among replicas: true when no round began in
 * the last 90 % of the interval (one conditional upsert, so two replicas never both win).
 */
export function claimRound(rt: Runtime, job: string, everyMs: number, now = new Date()): Promise<boolean> {
  return rt.store.claimState(`round:${job}`, now.toISOString(), everyMs * 0.9);
}
