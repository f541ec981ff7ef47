// Runs queued operations and reports through the status comment. With a queue (the server), jobs
// come from pg-boss, at most `concurrency` at once in this process — run one bot process per Docker
// host and that is the limit per host. Every operation the server records gets its job in the same
// transaction (Store.enqueueWith), and a job ends only when its operation has: one handed back
// (shutdown, lost lease) or held by a worker that may still be alive fails, and pg-boss tries it
// again — the queue's own retry is the takeover. At start the worker adopts, once, what has no job:
// operations recorded before the queue existed, or by a CLI that died.
// Without a queue, `tick()` claims from the operations table directly (tests, single process).
import { isFinished, type Operation } from '../domain/index.js';
import { advanceOpenBatches } from '../lifecycle/batches.js';
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
  /**
   * The operations' lease. With a queue, every quarter of it the worker looks for operations whose
   * lease ran out (their worker died) and runs them — the claim decides among replicas — so a
   * takeover waits for the lease, not for the dead process's job to be noticed by the queue.
   */
  leaseMs?: number;
}

export class Worker {
  private readonly running = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private started = false;

  constructor(
    /** What the worker uses: the operations and the engine that runs them. */
    private readonly rt: Pick<Runtime, 'store' | 'engine'>,
    private readonly options: WorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.started = true;
    const { queue } = this.options;
    if (queue) {
      await this.adopt(queue);
      await queue.work(this.options.concurrency, (id) => this.track(this.runById(id)));
      const every = Math.max(1_000, (this.options.leaseMs ?? 60_000) / 4);
      this.timer = setInterval(
        () => void this.takeOver().catch((error: unknown) => this.options.onError?.(error)),
        every,
      );
      this.timer.unref?.();
      return;
    }
    const loop = () => {
      // A failed pass (database down) must not stop the loop or crash the process: the next one
      // retries.
      void this.tick()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (!this.abort.signal.aborted)
            this.timer = setTimeout(loop, this.options.pollMs ?? 1_000);
        });
    };
    loop();
  }

  /**
   * One pass without a queue: claim what is runnable up to the concurrency limit; resolves when
   * those finish.
   */
  async tick(): Promise<void> {
    await advanceOpenBatches(this.rt);
    const queued = await this.rt.store.listOperations({ status: ['queued'], limit: 50 });
    const orphaned = await this.rt.store.orphanedOperations();
    const started: Promise<unknown>[] = [];
    for (const op of [...orphaned, ...queued.reverse()]) {
      if (this.running.size >= this.options.concurrency || this.abort.signal.aborted) break;
      if (this.running.has(op.id)) continue;
      started.push(this.track(this.runOne(op)));
    }
    await Promise.all(started);
  }

  /**
   * Runs what a dead worker held, once its lease ran out (up to the concurrency limit). Its job,
   * when the queue notices it, finds the operation finished or held, and ends or waits.
   */
  private async takeOver(): Promise<void> {
    if (this.abort.signal.aborted) return;
    // A batch whose pass was lost with its process (killed as an operation of it ended) goes on.
    await advanceOpenBatches(this.rt);
    for (const op of await this.rt.store.orphanedOperations()) {
      if (this.running.size >= this.options.concurrency || this.abort.signal.aborted) break;
      if (this.running.has(op.id)) continue;
      void this.track(this.runOne(op)).catch((error: unknown) => this.options.onError?.(error));
    }
    // A queued operation whose job could not be made (one was still finishing for it when it was
    // reopened) gets one now; one that has its job keeps it (one per operation).
    const queue = this.options.queue;
    if (!queue) return;
    for (const op of await this.rt.store.listOperations({ status: ['queued'], limit: 100 }))
      if (!this.running.has(op.id)) await queue.enqueue(op.id);
  }

  /** True between start() and stop(): readiness reports the queue as running. */
  isRunning(): boolean {
    return this.started && !this.abort.signal.aborted;
  }

  /** Stops taking work, asks running operations to stop after their step, and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('shutting down'));
    // The poll's timeout or the takeover's interval: Node clears either with clearTimeout.
    if (this.timer) clearTimeout(this.timer);
    // An unfinished operation's job ends in an error (pg-boss tries it again): not a failed stop.
    const [queue] = await Promise.allSettled([this.options.queue?.stop(), ...this.inFlight]);
    if (queue?.status === 'rejected') throw queue.reason;
  }

  /**
   * Gives a job to each queued operation and each operation whose worker died (lease expired):
   * those recorded before this server's queue existed, or by a CLI process that is gone. A job
   * already waiting or running for one is kept (one per operation).
   */
  private async adopt(queue: OperationQueue): Promise<void> {
    const due = [
      ...(await this.rt.store.orphanedOperations()),
      ...(await this.rt.store.listOperations({ status: ['queued'], limit: 1000 })),
    ];
    for (const op of due) await queue.enqueue(op.id);
  }

  private track<T>(job: Promise<T>): Promise<T> {
    const tracked = job.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return tracked;
  }

  /**
   * The job of one operation. It fails (pg-boss tries it again, here or on another replica) while
   * the operation is unfinished: handed back at shutdown, its lease lost, or held by a worker whose
   * lease has not run out yet (a killed one's runs out and the next try takes over).
   */
  private async runById(id: number): Promise<void> {
    let after: Operation | null = null;
    // Again while it was reopened (a retry) as this job ended: its own job could not be made then.
    for (let round = 0; round < 3; round++) {
      const op = await this.rt.store.getOperation(id);
      if (!op || isFinished(op.status)) return;
      await this.runOne(op);
      after = await this.rt.store.getOperation(id);
      if (after?.status !== 'queued') break;
    }
    if (after && !isFinished(after.status))
      throw new Error(
        `operation ${id} is not finished ` +
          `(${after.leaseOwner ? `held by ${after.leaseOwner}` : after.status}); ` +
          `it will be tried again`,
      );
  }

  private async runOne(op: Operation): Promise<Operation | null> {
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
      // The next of a batch this operation belonged to (at most its parallelism at once).
      if (done && isFinished(done.status))
        await advanceOpenBatches(this.rt).catch((error: unknown) => this.options.onError?.(error));
      return done;
    } finally {
      this.running.delete(op.id);
    }
  }
}
