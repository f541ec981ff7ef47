// A consistency check is read-only and costs a listing of every system: requests that arrive while
// one runs, or soon after it finished, share its report instead of starting another (15 × `/env
// check` in a comment, a burst of Re-check buttons, the console's Check button). Repairs (sync,
// prune) always look afresh. Comments, buttons and the console share one per runtime.
import type { ConsistencyReport } from './compare.js';
import { checkConsistency, type CheckDeps } from './check.js';

const shared = new WeakMap<CheckDeps, SharedCheck>();

/**
 * The process's consistency check, shared while it runs and for KINDLER_CHECK_FRESH_SECONDS after.
 */
export function sharedCheck(rt: CheckDeps): SharedCheck {
  let check = shared.get(rt);
  if (!check) {
    check = new SharedCheck(
      () => checkConsistency(rt),
      rt.config.KINDLER_CHECK_FRESH_SECONDS * 1000,
    );
    shared.set(rt, check);
  }
  return check;
}

export class SharedCheck {
  private running: Promise<ConsistencyReport> | null = null;
  private last: { report: ConsistencyReport; at: number } | null = null;
  /** How many checks actually ran (the others shared one). */
  runs = 0;

  constructor(
    private readonly check: () => Promise<ConsistencyReport>,
    private readonly freshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<ConsistencyReport> {
    if (this.running) return this.running;
    if (this.last && this.now() - this.last.at < this.freshMs)
      return Promise.resolve(this.last.report);
    this.runs++;
    const run = this.check().then(
      (report) => {
        this.last = { report, at: this.now() };
        this.running = null;
        return report;
      },
      (error: unknown) => {
        this.running = null;
        throw error;
      },
    );
    this.running = run;
    return run;
  }
}
