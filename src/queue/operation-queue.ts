// The durable queue (pg-boss) in the same database as the state: PostgreSQL, or the embedded PGlite
// through pg-boss's PGlite adapter. A job carries only an operation id; the operations table stays
// the truth (steps, lease, outcome), so a job delivered twice runs the operation once — the
// engine's
// claim decides. One job per operation at a time (policy `exclusive`, keyed by the id). A worker
// that dies stops heartbeating and its job is retried elsewhere; the engine resumes the operation
// at its first unfinished step once the dead worker's lease has expired.
//
// A second queue holds accepted webhook deliveries: the endpoint verifies the signature, stores the
// delivery here and answers; a worker in the process hands it to the app. A delivery waiting when
// the process dies is handled after the restart. One job per delivery id while it waits or runs.
//
// Periodic work (the drift monitor, the expiry sweep) runs on pg-boss's schedules: one job per
// occurrence whichever process and however many replicas evaluate the schedule, never two at once.
import { PgBoss, fromPglite, type Clock, type PGliteLike } from 'pg-boss';
import type { Queryable } from '../store/db.js';

export const OPERATIONS_QUEUE = 'kindler-operations';
export const DELIVERIES_QUEUE = 'kindler-webhooks';
export const CONSISTENCY_QUEUE = 'kindler-consistency';

/** A verified webhook delivery as GitHub sent it. */
export interface Delivery {
  id: string;
  name: string;
  payload: Record<string, unknown>;
}

export interface QueueSettings {
  /** PostgreSQL connection string, or the embedded database to share. */
  database: { connectionString: string } | { pglite: PGliteLike };
  onError?: (error: unknown) => void;
  /** pg-boss's source of time; tests pass a TestClock to let minutes pass at once. */
  clock?: Clock;
  /** The operations' lease (KINDLER_LEASE_MS): the queue's heartbeats and takeover follow it. */
  leaseMs?: number;
}

/** pg-boss's options for a send made through the caller's transaction (it commits with it). */
const inside = (tx: Queryable) => ({
  db: {
    executeSql: async (text: string, values?: unknown[]) => ({
      rows: await tx.query(text, values),
    }),
  },
});

/** The recurrence for "every `minutes` minutes" (RFC 5545, evaluated in UTC). */
export const everyMinutes = (minutes: number): string => `FREQ=MINUTELY;INTERVAL=${minutes}`;

/**
 * A queue as this version wants it: created, or its timings brought up to date (not its policy).
 */
async function ensureQueue(
  boss: PgBoss,
  name: string,
  options: Parameters<PgBoss['createQueue']>[1],
): Promise<void> {
  if (await boss.getQueue(name)) {
    const { policy: _fixed, ...timings } = options ?? {};
    if (Object.keys(timings).length) await boss.updateQueue(name, timings);
    return;
  }
  await boss.createQueue(name, options).catch(async (error: unknown) => {
    if (!(await boss.getQueue(name))) throw error; // another process created it meanwhile
  });
}

/**
 * The queue's timings, derived from the lease (KINDLER_LEASE_MS): a job's heartbeat a third of
 * it (pg-boss's least is 10 s), the supervisor looking for silent jobs every sixth of it (at
 * most every 10 s), a job that found its operation still leased tried again a sixth of it later.
 * (A SIGKILLed process's operation is taken over sooner, by the workers' look for expired leases:
 * see Worker.)
 */
export function queueTimings(leaseMs: number): {
  heartbeatSeconds: number;
  superviseIntervalSeconds: number;
  retryDelay: number;
} {
  const seconds = leaseMs / 1000;
  return {
    heartbeatSeconds: Math.max(10, Math.ceil(seconds / 3)),
    superviseIntervalSeconds: Math.min(10, Math.max(1, Math.ceil(seconds / 6))),
    retryDelay: Math.min(10, Math.max(1, Math.ceil(seconds / 6))),
  };
}

export class OperationQueue {
  private deliveryWorker: string | null = null;

  private constructor(private readonly boss: PgBoss) {}

  static async open(settings: QueueSettings): Promise<OperationQueue> {
    const timing = queueTimings(settings.leaseMs ?? 60_000);
    const common = {
      schema: 'pgboss',
      supervise: true,
      // How soon a job of a dead process (its heartbeat stopped) is failed and tried again.
      superviseIntervalSeconds: timing.superviseIntervalSeconds,
      monitorIntervalSeconds: 10,
      schedule: true,
      // A job sent by any process wakes the workers of its queue at once (LISTEN/NOTIFY); polling
      // every second stays as the floor (each work() keeps its interval when notified too).
      useListenNotify: true,
      ...(settings.clock ? { clock: settings.clock } : {}),
    } as const;
    const boss =
      'pglite' in settings.database
        ? new PgBoss({ ...common, db: fromPglite(settings.database.pglite), backend: 'pglite' })
        : new PgBoss({ ...common, connectionString: settings.database.connectionString, max: 10 });
    boss.on('error', (error: unknown) => settings.onError?.(error));
    await boss.start();
    await ensureQueue(boss, OPERATIONS_QUEUE, {
      policy: 'exclusive',
      // Lifecycle steps take minutes; a silent worker is detected by its missing heartbeat instead.
      expireInSeconds: 4 * 3600,
      notify: true,
      heartbeatSeconds: timing.heartbeatSeconds,
      // A retry is a takeover (the handler itself never throws for a failed step): keep trying.
      retryLimit: 1000,
      retryDelay: timing.retryDelay,
    });
    // pg-boss looks a queue up before sending to it; done here, outside any transaction, so that
    // a send inside one (enqueueIn) never waits for the single embedded connection it holds.
    // (A send to a database that keeps nothing: the lookup is all it does.)
    await boss.send(OPERATIONS_QUEUE, {}, { db: { executeSql: async () => ({ rows: [] }) } });
    // Handling a delivery takes a few GitHub calls; a failed one (GitHub or the database down)
    // is tried again, for about a day; one whose process died is noticed by its heartbeat.
    // Stored without a NOTIFY: PostgreSQL commits the transactions that notify one at a time,
    // and the webhook's answer waits for that commit (its p99 at 10 in flight: 39–82 ms with it,
    // 23–48 without). The process that stored it wakes its own worker (accept); the others
    // poll every second.
    await ensureQueue(boss, DELIVERIES_QUEUE, {
      policy: 'exclusive',
      expireInSeconds: 600,
      notify: false,
      heartbeatSeconds: timing.heartbeatSeconds,
      retryLimit: 40,
      retryDelay: 2,
      retryBackoff: true,
      retryDelayMax: 3600,
      deleteAfterSeconds: 7 * 86_400,
    });
    // Consistency requests from GitHub (check, sync, prune): a request a dead process was running
    // is run again (its reply is keyed, so it answers once).
    await ensureQueue(boss, CONSISTENCY_QUEUE, {
      expireInSeconds: 1800,
      notify: true,
      heartbeatSeconds: timing.heartbeatSeconds,
      retryLimit: 3,
      retryDelay: timing.retryDelay,
      deleteAfterSeconds: 86_400,
    });
    // Sent to inside a delivery's transaction too: looked up now (see the operations queue).
    await boss.send(CONSISTENCY_QUEUE, {}, { db: { executeSql: async () => ({ rows: [] }) } });
    return new OperationQueue(boss);
  }

  /** Enqueues the operation; false when it already has a job waiting or running. */
  async enqueue(operationId: number): Promise<boolean> {
    return (
      (await this.boss.send(
        OPERATIONS_QUEUE,
        { operationId },
        { singletonKey: `op-${operationId}` },
      )) !== null
    );
  }

  /**
   * Enqueues the operation inside the caller's transaction (the one recording it): the job exists
   * exactly when the operation does. See Store.enqueueWith.
   */
  readonly enqueueIn = async (tx: Queryable, operationId: number): Promise<void> => {
    await this.boss.send(
      OPERATIONS_QUEUE,
      { operationId },
      { singletonKey: `op-${operationId}`, ...inside(tx) },
    );
  };

  /** Runs `handler` for each job, at most `concurrency` at once in this process. */
  async work(concurrency: number, handler: (operationId: number) => Promise<void>): Promise<void> {
    await this.boss.work<{ operationId: number }>(
      OPERATIONS_QUEUE,
      {
        localConcurrency: concurrency,
        batchSize: 1,
        pollingIntervalSeconds: 1,
        notifyPollingIntervalSeconds: 1,
      },
      async (jobs) => {
        for (const job of jobs) await handler(job.data.operationId);
      },
    );
  }

  /**
   * Stores a verified delivery for the app; false when the same delivery is already waiting or
   * being handled (the queue holds one copy per delivery id). Whether a delivery is acted on is
   * decided in one place, when the app admits it (Store.admitDelivery).
   */
  async accept(delivery: Delivery): Promise<boolean> {
    const id = await this.boss.send(DELIVERIES_QUEUE, delivery, { singletonKey: delivery.id });
    // Handled now, not at the next poll.
    if (this.deliveryWorker) this.boss.notifyWorker(this.deliveryWorker);
    return id !== null;
  }

  /** Hands accepted deliveries to `handler`, at most `concurrency` at once in this process. */
  async workDeliveries(
    concurrency: number,
    handler: (delivery: Delivery) => Promise<void>,
  ): Promise<void> {
    this.deliveryWorker = await this.boss.work<Delivery>(
      DELIVERIES_QUEUE,
      {
        localConcurrency: concurrency,
        batchSize: 1,
        pollingIntervalSeconds: 1,
        notifyPollingIntervalSeconds: 1,
      },
      async (jobs) => {
        for (const job of jobs) await handler(job.data);
      },
    );
  }

  /**
   * Keeps a request for a consistency worker (a job of its own, outliving this process); inside
   * the caller's transaction when given one (the job exists exactly when what asked for it does).
   */
  async request<T extends object>(request: T, tx?: Queryable): Promise<void> {
    await this.boss.send(CONSISTENCY_QUEUE, request, tx ? inside(tx) : {});
  }

  /** Runs kept requests, one at a time in this process. */
  async workRequests<T extends object>(handler: (request: T) => Promise<void>): Promise<void> {
    await this.boss.work<T>(
      CONSISTENCY_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
      async (jobs) => {
        for (const job of jobs) await handler(job.data);
      },
    );
  }

  /**
   * Runs `task` at each occurrence of `recurrence` (an RFC 5545 rule or a cron expression, UTC),
   * once per occurrence among every process sharing the database. A task still running when the
   * next occurrence comes makes that occurrence wait (policy `singleton`).
   */
  async every(name: string, recurrence: string, task: () => Promise<void>): Promise<void> {
    await ensureQueue(this.boss, name, {
      policy: 'singleton',
      expireInSeconds: 3600,
      retryLimit: 0,
    });
    await this.boss.schedule(name, recurrence, null, { tz: 'UTC' });
    await this.boss.work(name, { batchSize: 1, pollingIntervalSeconds: 2 }, async () => task());
  }

  /**
   * Removes a schedule (a previous configuration's) and what it left waiting, so nothing piles up
   * unworked.
   */
  async unschedule(name: string): Promise<void> {
    if (!(await this.boss.getQueue(name))) return;
    await this.boss.unschedule(name);
    await this.boss.deleteQueuedJobs(name);
  }

  /** Operation jobs waiting for a worker (read now, not from pg-boss's periodic statistics). */
  async depth(): Promise<number> {
    return (await this.boss.findJobs(OPERATIONS_QUEUE, { queued: true })).length;
  }

  /** Stops fetching and waits (up to `timeoutMs`) for the jobs in hand to finish. */
  async stop(timeoutMs = 60_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}
