// Runs queued operations from the database (the operations table is the durable queue: a restart
// loses nothing), takes over those whose worker died, and reports through the status comment.
import type { Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import type { Runtime } from '../runtime.js';

export interface WorkerOptions {
  owner: string;
  concurrency: number;
  pollMs?: number;
  /** The observer for one operation (a comment reporter for GitHub-triggered ones). */
  observerFor?: (op: Operation) => Promise<(OperationObserver & { flush?(): Promise<void> }) | null>;
  /** Called with each operation this worker finished running (metrics). */
  onFinished?: (op: Operation) => void;
  /** Told when a pass fails (the database is unreachable, say); the loop keeps going. */
  onError?: (error: unknown) => void;
}

export class Worker {
  private readonly running = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly rt: Runtime, private readonly options: WorkerOptions) {}

  private started = false;

  start(): void {
    this.started = true;
    const loop = () => {
      // A failed pass (database down) must not stop the loop or crash the process: the next one retries.
      void this.tick().catch((error: unknown) => this.options.onError?.(error)).finally(() => {
        if (!this.abort.signal.aborted) this.timer = setTimeout(loop, this.options.pollMs ?? 1_000);
      });
    };
    loop();
  }

  /** One pass: claim what is runnable up to the concurrency limit. Resolves when those finish. */
  async tick(): Promise<void> {
    const queued = await this.rt.store.listOperations({ status: ['queued'], limit: 50 });
    const orphaned = await this.rt.store.orphanedOperations();
    const started: Promise<void>[] = [];
    for (const op of [...orphaned, ...queued.reverse()]) {
      if (this.running.size >= this.options.concurrency || this.abort.signal.aborted) break;
      if (this.running.has(op.id)) continue;
      this.running.add(op.id);
      const job = this.runOne(op).finally(() => {
        this.running.delete(op.id);
        this.inFlight.delete(job);
      });
      this.inFlight.add(job);
      started.push(job);
    }
    await Promise.all(started);
  }

  /** True between start() and stop(): readiness reports the queue as running. */
  isRunning(): boolean {
    return this.started && !this.abort.signal.aborted;
  }

  /** Stops claiming, asks running operations to stop after their step, and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('shutting down'));
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.inFlight);
  }

  private async runOne(op: Operation): Promise<void> {
    const observer = (await this.options.observerFor?.(op)) ?? undefined;
    const done = await this.rt.engine.execute(op.id, { owner: this.options.owner, signal: this.abort.signal, ...(observer ? { observer } : {}) });
    await observer?.flush?.();
    if (done) this.options.onFinished?.(done);
  }
}
