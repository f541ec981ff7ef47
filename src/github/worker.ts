// Runs queued operations and reports through the status comment. With a queue (the server), jobs
// come from pg-boss, at most `concurrency` at once in this process — run one bot process per Docker
// host and that is the limit per host — and a sweep every few seconds enqueues what has no job: an
// operation recorded while the queue was unreachable, or one whose worker died (its lease expired).
// Without a queue, `tick()` claims from the operations table directly (tests, single process).
import type { Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import type { OperationQueue } from '../queue/operation-queue.js';
import type { Runtime } from '../runtime.js';

export interface WorkerOptions {
  owner: string;
  concurrency: number;
  pollMs?: number;
  /** The durable queue; without it the worker polls the operations table. */
  queue?: OperationQueue;
  /** The observer for one operation (a comment reporter for GitHub-triggered ones). */
  observerFor?: (
    op: Operation,
  ) => Promise<(OperationObserver & { flush?(): Promise<void> }) | null>;
  /** Called with each operation this worker finished running (metrics). */
  onFinished?: (op: Operation) => void;
  /** Told when a pass fails (the database is unreachable, say); the loop keeps going. */
  onError?: (error: unknown) => void;
}

/** How long a GitHub-asked operation waits for its status comment before the sweep runs it. */
export const ANNOUNCE_GRACE_MS = 60_000;

export class Worker {
  private readonly running = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private started = false;

  constructor(
    private readonly rt: Runtime,
    private readonly options: WorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.started = true;
    const { queue } = this.options;
    if (queue) await queue.work(this.options.concurrency, (id) => this.track(this.runById(id)));
    const loop = () => {
      // A failed pass (database down) must not stop the loop or crash the process: the next one retries.
      const pass = queue ? this.sweep(queue) : this.tick();
      void pass
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (!this.abort.signal.aborted)
            this.timer = setTimeout(loop, this.options.pollMs ?? (queue ? 5_000 : 1_000));
        });
    };
    loop();
  }

  /** Hands a newly recorded (or reopened) operation to the queue, or runs a pass without one. */
  async enqueue(op: Pick<Operation, 'id'>): Promise<void> {
    if (this.options.queue) await this.options.queue.enqueue(op.id);
    else await this.tick();
  }

  /** One pass without a queue: claim what is runnable up to the concurrency limit; resolves when those finish. */
  async tick(): Promise<void> {
    const queued = await this.rt.store.listOperations({ status: ['queued'], limit: 50 });
    const orphaned = await this.rt.store.orphanedOperations();
    const started: Promise<void>[] = [];
    for (const op of [...orphaned, ...queued.reverse()]) {
      if (this.running.size >= this.options.concurrency || this.abort.signal.aborted) break;
      if (this.running.has(op.id)) continue;
      started.push(this.track(this.runOne(op)));
    }
    await Promise.all(started);
  }

  /** True between start() and stop(): readiness reports the queue as running. */
  isRunning(): boolean {
    return this.started && !this.abort.signal.aborted;
  }

  /** Stops taking work, asks running operations to stop after their step, and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('shutting down'));
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([this.options.queue?.stop(), ...this.inFlight]);
  }

  /**
   * Enqueues queued operations without a job and operations whose worker died. An operation asked
   * for on GitHub is left to its announcer (which wakes it once its status comment and check run
   * exist) for a minute; after that the sweep runs it anyway (its announcer died).
   */
  private async sweep(queue: OperationQueue): Promise<void> {
    const unannounced = (op: Operation) =>
      op.trigger.source !== 'cli' &&
      op.commentId === null &&
      op.checkRunId === null &&
      Date.now() - op.startedAt.getTime() < ANNOUNCE_GRACE_MS;
    const due = [
      ...(await this.rt.store.orphanedOperations()),
      ...(await this.rt.store.listOperations({ status: ['queued'], limit: 1000 })).filter(
        (op) => !unannounced(op),
      ),
    ];
    for (const op of due) if (!this.running.has(op.id)) await queue.enqueue(op.id);
  }

  private track(job: Promise<void>): Promise<void> {
    const tracked = job.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return tracked;
  }

  private async runById(id: number): Promise<void> {
    const op = await this.rt.store.getOperation(id);
    if (op && (op.status === 'queued' || op.status === 'running')) await this.runOne(op);
  }

  private async runOne(op: Operation): Promise<void> {
    this.running.add(op.id);
    try {
      const observer = (await this.options.observerFor?.(op)) ?? undefined;
      const done = await this.rt.engine.execute(op.id, {
        owner: this.options.owner,
        signal: this.abort.signal,
        ...(observer ? { observer } : {}),
      });
      await observer?.flush?.();
      if (done) this.options.onFinished?.(done);
    } finally {
      this.running.delete(op.id);
    }
  }
}
