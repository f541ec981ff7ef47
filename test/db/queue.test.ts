// The durable queue (pg-boss) on PostgreSQL and on the embedded PGlite: recorded operations are
// enqueued once and run once; concurrency is bounded; an operation whose worker died is taken over
// and resumed at its first unfinished step; stop() drains what is running. Accepted webhook
// deliveries survive a restart and are handed to the app once. Scheduled rounds run once per
// occurrence among processes.
import { afterEach, describe, expect, it } from 'vitest';
import { envName, type Operation } from '../../src/domain/index.js';
import { Worker } from '../../src/github/worker.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { TestClock, type Clock } from 'pg-boss';
import { OperationQueue, everyMinutes } from '../../src/queue/operation-queue.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS, type OpenedStore } from '../support/db.js';
import { fakeSystems, type FakeSystems } from '../support/fake-steps.js';

const trigger = {
  source: 'cli' as const,
  actor: 'test',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
};

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(BACKENDS)('operation queue on %s', (backend, open) => {
  let opened: OpenedStore | null = null;
  let workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers) await w.stop();
    workers = [];
    await opened?.cleanup();
    opened = null;
  });

  async function setup(): Promise<{
    store: Store;
    systems: FakeSystems;
    engine: Engine;
    queue: (clock?: Clock) => Promise<OperationQueue>;
    rt: { store: Store; engine: Engine };
  }> {
    opened = await open();
    const { store } = opened;
    await store.migrate();
    const systems = fakeSystems();
    const engine = new Engine({
      store,
      handlers: systems.handlers,
      retryDelaysMs: [],
      leaseMs: 1_000,
    });
    const rt = { store, engine };
    const queueDb = store.queueDatabase();
    expect('pglite' in queueDb).toBe(backend === 'pglite');
    const queue = (clock?: Clock) =>
      OperationQueue.open({
        database: queueDb,
        ...(clock ? { clock } : {}),
      });
    return { store, systems, engine, queue, rt };
  }

  it('runs each recorded operation once, however often it is enqueued, at most `concurrency` at a time', async () => {
    const { store, systems, engine, queue, rt } = await setup();
    let running = 0;
    let peak = 0;
    systems.during = async (step) => {
      if (step !== 'cluster') return;
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 300));
      running--;
    };
    const q = await queue();
    const ops: Operation[] = [];
    const record = async (name: string) =>
      ops.push(
        await engine.request({ kind: 'create', name: envName(name), provider: 'k3d', trigger }),
      );
    // q-1 is recorded before the queue is attached: it has no job until a worker adopts it.
    await record('q-1');
    expect(await q.depth()).toBe(0);
    store.enqueueWith(q.enqueueIn);
    // q-2 and q-3 get their jobs in the transaction that records them.
    await record('q-2');
    await record('q-3');
    expect(await q.depth()).toBe(2);
    expect(await q.enqueue(ops[1]!.id)).toBe(false); // one job per operation at a time
    // A recording that fails (the environment is busy) leaves no job behind.
    await expect(
      engine.request({ kind: 'create', name: envName('q-2'), provider: 'k3d', trigger }),
    ).rejects.toThrow();
    expect(await q.depth()).toBe(2);
    const worker = new Worker(rt, { owner: 'w1', concurrency: 2, queue: q, pollMs: 200 });
    workers.push(worker);
    await worker.start();
    await until('all three to succeed', async () =>
      (await Promise.all(ops.map((o) => store.getOperation(o.id)))).every(
        (o) => o?.status === 'success',
      ),
    );
    for (const name of ['q-1', 'q-2', 'q-3'])
      expect(systems.calls.filter((c) => c === `cluster.ensure ${name}`)).toHaveLength(1);
    expect(peak).toBe(2);
    expect(worker.isRunning()).toBe(true);
  });

  it('a retry that comes while the failed attempt is still being reported runs, with no new job refused', async () => {
    const { store, systems, engine, queue, rt } = await setup();
    const q = await queue();
    store.enqueueWith(q.enqueueIn);
    systems.failNext('cluster', 'ensure', new Error('boom'), 1);
    const op = await engine.request({
      kind: 'create',
      name: envName('reopened'),
      provider: 'k3d',
      trigger,
    });
    // The job of the failed attempt is still reporting it when the retry reopens the operation:
    // one job per operation, so the retry's own job cannot be made then.
    let retried: boolean | null = null;
    const worker = new Worker(rt, {
      owner: 'w-retry',
      concurrency: 1,
      queue: q,
      pollMs: 200,
      observerFor: async () => ({
        onUpdate: () => undefined,
        flush: async () => {
          if (retried !== null) return;
          retried = false;
          const again = await engine.retry(envName('reopened'), trigger);
          retried = again.status === 'queued';
        },
      }),
    });
    workers.push(worker);
    await worker.start();
    await until(
      'the retried create to succeed',
      async () => (await store.getOperation(op.id))?.status === 'success',
      20_000,
    );
    expect(retried).toBe(true);
    expect((await store.getOperation(op.id))?.attempt).toBe(2);
  });

  it('takes over an operation whose worker died and resumes it at its first unfinished step', async () => {
    const { store, systems, engine, queue, rt } = await setup();
    const op = await engine.request({
      kind: 'create',
      name: envName('orphan'),
      provider: 'k3d',
      trigger,
    });
    // A worker claimed it, finished record and branch, then died: its lease runs out.
    await store.claimOperation(op.id, 'dead-worker', 200);
    const now = new Date();
    for (const step of ['record', 'branch'] as const)
      await store.saveStep(op.id, {
        step,
        status: 'done',
        startedAt: now,
        completedAt: now,
        detail: 'done before the crash',
        error: null,
      });
    systems.present.branch.add('orphan');
    await new Promise((r) => setTimeout(r, 300));
    const worker = new Worker(rt, {
      owner: 'w2',
      concurrency: 1,
      queue: await queue(),
      pollMs: 200,
    });
    workers.push(worker);
    await worker.start();
    await until(
      'the orphan to succeed',
      async () => (await store.getOperation(op.id))?.status === 'success',
    );
    expect(systems.calls.filter((c) => c.endsWith(' orphan'))).toEqual([
      'cluster.ensure orphan',
      'portainer.ensure orphan',
      'argocd.ensure orphan',
      'haproxy.ensure orphan',
    ]);
  });

  it('stop() waits for the running step, and the operation is resumed by the next worker', async () => {
    const { store, systems, engine, queue, rt } = await setup();
    let release: () => void = () => undefined;
    const entered = new Promise<void>((resolve) => {
      systems.during = async (step) => {
        if (step !== 'cluster') return;
        delete systems.during;
        resolve();
        await new Promise<void>((r) => (release = r));
      };
    });
    const q = await queue();
    store.enqueueWith(q.enqueueIn);
    const op = await engine.request({
      kind: 'create',
      name: envName('drain'),
      provider: 'k3d',
      trigger,
    });
    store.enqueueWith(null);
    const first = new Worker(rt, { owner: 'w3', concurrency: 1, queue: q, pollMs: 200 });
    await first.start();
    await entered;
    let stopped = false;
    const stopping = first.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // still draining the cluster step
    release();
    await stopping;
    const after = await store.getOperation(op.id);
    expect(after?.steps.find((s) => s.step === 'cluster')?.status).toBe('done');
    expect(after?.status).not.toBe('success'); // it stopped after the step, not at the end

    const second = new Worker(rt, {
      owner: 'w4',
      concurrency: 1,
      queue: await queue(),
      pollMs: 200,
    });
    workers.push(second);
    await second.start();
    await until(
      'the drained operation to be finished by the next worker',
      async () => (await store.getOperation(op.id))?.status === 'success',
      40_000,
    );
    expect(systems.calls.filter((c) => c === 'cluster.ensure drain')).toHaveLength(1);
  });

  it('keeps an accepted webhook delivery until a process hands it to the app, once, even across a restart', async () => {
    const { queue } = await setup();
    const delivery = {
      id: 'guid-1',
      name: 'issue_comment',
      payload: { action: 'created', comment: { body: '/env list' } },
    };
    const first = await queue();
    expect(await first.accept(delivery)).toBe(true);
    expect(await first.accept(delivery)).toBe(false); // GitHub redelivered it while it waits
    await first.stop(); // the process dies before handling it
    const second = await queue();
    const handled: unknown[] = [];
    await second.workDeliveries(2, async (d) => void handled.push(d));
    try {
      await until('the delivery to be handled', async () => handled.length > 0, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(handled).toEqual([delivery]);
    } finally {
      await second.stop();
    }
  });

  it('runs a scheduled task once per occurrence however many processes evaluate the schedule, and stops when it is removed', async () => {
    const { queue } = await setup();
    // pg-boss's test clock lets sixteen minutes pass at once, the database reading the same time.
    const clock = new TestClock(Date.parse('2026-01-01T00:00:30Z'));
    const runs: string[] = [];
    const task = async () => void runs.push(new Date(clock.now()).toISOString());
    const [a, b] = [await queue(clock), await queue(clock)];
    const pass = async (minutes: number) => {
      for (let i = 0; i < minutes * 2; i++) {
        await clock.tick(30_000);
        await new Promise((r) => setTimeout(r, 20)); // the handler runs outside the tick
      }
    };
    try {
      await a.every('kindler-test-round', everyMinutes(5), task);
      await b.every('kindler-test-round', everyMinutes(5), task);
      await pass(16);
      expect(runs).toEqual([
        '2026-01-01T00:05:00.000Z',
        '2026-01-01T00:10:00.000Z',
        '2026-01-01T00:15:00.000Z',
      ]);
      await b.unschedule('kindler-test-round'); // the interval set to 0 in either process
      await pass(12);
      expect(runs).toHaveLength(3);
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 60_000);
});
