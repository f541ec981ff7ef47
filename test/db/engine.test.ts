// The engine against a real store (PostgreSQL and PGlite) with in-memory systems: order of steps,
// failure policy, resumption, cancellation, one operation per environment.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  command,
  DatabaseUnavailable,
  Failure,
  envName,
  type Operation,
  type Trigger,
} from '../../src/domain/index.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import type { Store } from '../../src/store/store.js';
import { withPgliteStore, withPostgresStore } from '../support/db.js';
import { fakeSystems, transient, type FakeSystems } from '../support/fake-steps.js';

const trigger: Trigger = {
  source: 'cli',
  actor: 'alice',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
};
const dev = envName('dev');

describe.each([
  ['postgres', withPostgresStore],
  ['pglite', withPgliteStore],
] as const)('engine on %s', (_backend, open) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let systems: FakeSystems;
  let engine: Engine;

  beforeAll(async () => {
    ({ store, cleanup } = await open());
    await store.migrate();
  });
  afterAll(async () => cleanup());
  beforeEach(async () => {
    for (const env of await store.listEnvironments()) await store.deleteEnvironment(env.name);
    for (const op of await store.listOperations({ status: ['queued', 'running'] })) {
      await store.updateOperation(op.id, { status: 'cancelled', completedAt: new Date() });
    }
    systems = fakeSystems();
    engine = new Engine({
      store,
      handlers: systems.handlers,
      retryDelaysMs: [1, 1],
      leaseMs: 5_000,
    });
  });

  const run = async (op: Operation) => (await engine.execute(op.id, { owner: 'test:1' }))!;
  const stepStatuses = (op: Operation) =>
    Object.fromEntries(op.steps.map((s) => [s.step, s.status]));

  it('a recorded create is in the derived snapshot at once, before any step runs', async () => {
    const seen: string[][] = [];
    const recording = new Engine({
      store,
      handlers: systems.handlers,
      retryDelaysMs: [],
      afterChange: async () => {
        seen.push((await store.listEnvironments()).map((e) => e.name));
      },
    });
    await recording.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    expect(seen).toEqual([['dev']]);
    expect(systems.calls).toEqual([]);
  });

  it('creates: the row first, then every step in order, then ready', async () => {
    const queued = await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    expect(queued.status).toBe('queued');
    expect(stepStatuses(queued)).toMatchObject({ record: 'done', branch: 'pending' });
    const row = await store.getEnvironment('dev');
    expect(row?.status).toBe('creating');
    expect(systems.calls).toEqual([]);

    const final = await run(queued);
    expect(final.status).toBe('success');
    expect(systems.calls).toEqual([
      'branch.ensure dev',
      'cluster.ensure dev',
      'portainer.ensure dev',
      'argocd.ensure dev',
      'haproxy.ensure dev',
    ]);
    expect(Object.values(stepStatuses(final))).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect((await store.getEnvironment('dev'))?.status).toBe('ready');
  });

  it('refuses a second create of the same name and changes nothing', async () => {
    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    const before = await store.getEnvironment('dev');
    const error = await engine
      .request({ kind: 'create', name: dev, provider: 'kind', trigger })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Failure);
    expect((error as Failure).code).toBe('already_exists');
    expect((error as Failure).message).toMatch(
      /^environment "dev" already exists \(k3d, status ready/,
    );
    expect(await store.getEnvironment('dev')).toEqual(before);
  });

  it('refuses labels no surface would take, whoever calls it, and records nothing', async () => {
    const before = await store.listOperations({ limit: 100 });
    for (const [labels, why] of [
      [
        Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
        'at most 10 labels (11 given)',
      ],
      [{ 'bad key': 'a' }, 'label key "bad key" must be'],
      [{ team: 'a b' }, 'label team: the value "a b" must be'],
    ] as const) {
      const error = await engine
        .request({ kind: 'create', name: dev, provider: 'k3d', trigger, options: { labels } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Failure);
      expect((error as Failure).code).toBe('invalid_input');
      expect((error as Failure).message).toContain(why);
    }
    expect(await store.getEnvironment('dev')).toBeNull();
    expect(await store.listOperations({ limit: 100 })).toEqual(before);
  });

  it('stops at a failed step, records it with the fix, and retry resumes there', async () => {
    systems.failNext(
      'cluster',
      'ensure',
      new Error('creating k3d cluster "dev": k3d exited 1: port is already allocated'),
    );
    const failed = await run(
      await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }),
    );
    expect(failed.status).toBe('failed');
    expect(failed.failedStep).toBe('cluster');
    expect(failed.error).toBe(
      'creating k3d cluster "dev": k3d exited 1: port is already allocated',
    );
    expect(failed.fixCommand).toEqual(command('retry', 'dev'));
    expect(stepStatuses(failed)).toMatchObject({
      record: 'done',
      branch: 'done',
      cluster: 'failed',
      portainer: 'pending',
    });
    expect((await store.getEnvironment('dev'))?.status).toBe('failed');

    systems.calls.length = 0;
    const again = await engine.retry(dev, trigger);
    expect(again.id).toBe(failed.id);
    const final = await run(again);
    expect(final.status).toBe('success');
    expect(systems.calls[0]).toBe('cluster.ensure dev'); // the branch step is not run again
    expect(systems.calls).not.toContain('branch.ensure dev');
    // Now there is nothing to retry: its own refusal (the CLI exits 7), nothing changed.
    const nothing = await engine.retry(dev, trigger).catch((e: unknown) => e);
    expect(nothing).toMatchObject({ code: 'nothing_to_do' });
    expect(exitCodeFor(nothing)).toBe(7);
    expect((await store.latestOperation(dev))?.id).toBe(final.id);
  });

  it('retry runs an operation that was queued but never started', async () => {
    const queued = await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    const again = await engine.retry(dev, trigger);
    expect(again.id).toBe(queued.id);
    expect((await run(again)).status).toBe('success');
  });

  it('retries transient errors with backoff before failing the step', async () => {
    systems.failNext('portainer', 'ensure', transient('Portainer answered 503'), 2);
    const final = await run(
      await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }),
    );
    expect(final.status).toBe('success');
    expect(systems.calls.filter((c) => c.startsWith('portainer'))).toHaveLength(3);
    expect(final.logOutput).toContain('Portainer answered 503 — retrying in 1 ms');
  });

  it('reports a step whose system is not configured as skipped', async () => {
    systems.skip.portainer = 'PORTAINER_URL is not set';
    const final = await run(
      await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }),
    );
    const step = final.steps.find((s) => s.step === 'portainer');
    expect(step).toMatchObject({ status: 'skipped', detail: 'skipped: PORTAINER_URL is not set' });
    expect(systems.calls).not.toContain('portainer.ensure dev');
  });

  it('deletes in order, row last; a Git failure is a warning naming the orphaned branch', async () => {
    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    systems.calls.length = 0;
    systems.failNext('branch', 'remove', new Error('deleting branch "dev": remote answered 503'));
    const final = await run(await engine.request({ kind: 'delete', name: dev, trigger }));
    expect(systems.calls).toEqual([
      'cluster.remove dev',
      'portainer.remove dev',
      'argocd.remove dev',
      'haproxy.remove dev',
      'branch.remove dev',
    ]);
    expect(final.status).toBe('success');
    const branch = final.steps.find((s) => s.step === 'branch');
    expect(branch?.status).toBe('warning');
    expect(branch?.detail).toContain(
      'branch "dev" left behind: deleting branch "dev": remote answered 503',
    );
    expect(branch?.detail).toContain('git push <remote> --delete dev');
    expect(await store.getEnvironment('dev')).toBeNull();
  });

  it('a failed delete keeps the row (delete_failed) and can be resumed', async () => {
    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    systems.failNext('argocd', 'remove', new Error('Kubernetes API answered 500'));
    const failed = await run(await engine.request({ kind: 'delete', name: dev, trigger }));
    expect(failed).toMatchObject({
      status: 'failed',
      failedStep: 'argocd',
      fixCommand: command('delete', 'dev'),
    });
    expect((await store.getEnvironment('dev'))?.status).toBe('delete_failed');
    const final = await run(await engine.retry(dev, trigger));
    expect(final.status).toBe('success');
    expect(await store.getEnvironment('dev')).toBeNull();
  });

  it('runs one operation per environment: a second request is refused with the reason', async () => {
    await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    await store.updateEnvironment(dev, { status: 'ready' });
    const error = await engine
      .request({ kind: 'delete', name: dev, trigger })
      .catch((e: unknown) => e);
    expect((error as Failure).code).toBe('busy');
    expect((error as Failure).message).toMatch(
      /^environment "dev" already has a create operation \(#\d+, queued, started .+\); one operation runs at a time$/,
    );
  });

  it('cancels between steps', async () => {
    const queued = await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    systems.during = async (step) => {
      if (step === 'cluster') await engine.cancel(dev);
    };
    const final = await run(queued);
    expect(final.status).toBe('cancelled');
    expect(stepStatuses(final)).toMatchObject({ cluster: 'done', portainer: 'pending' });
    expect(systems.calls).toEqual(['branch.ensure dev', 'cluster.ensure dev']);
    expect((await store.getEnvironment('dev'))?.status).toBe('failed');
  });

  it('cancel of an operation whose worker died stops it at once and says so; retry resumes it', async () => {
    const deadOwner = 'cli:elsewhere:999999';
    const watching = new Engine({
      store,
      handlers: systems.handlers,
      retryDelaysMs: [],
      leaseMs: 60_000,
      ownerAlive: (owner) => owner !== deadOwner,
    });
    const queued = await watching.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    // A worker took it, got into the cluster step, and died there.
    await store.claimOperation(queued.id, deadOwner, 60_000);
    await store.saveStep(queued.id, {
      step: 'cluster',
      status: 'running',
      startedAt: new Date(),
      completedAt: null,
      detail: null,
      error: null,
    });
    const cancelled = (await watching.cancel(dev))!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toBe(`cancelled: its worker (${deadOwner}) had stopped during cluster`);
    expect(cancelled.fixCommand).toEqual(command('retry', 'dev'));
    expect(stepStatuses(cancelled)).toMatchObject({ cluster: 'failed' });
    expect(stepStatuses(cancelled)).not.toMatchObject({ cluster: 'running' });
    // The next retry resumes it (the same operation, the next attempt) and it finishes.
    const again = await watching.retry(dev, trigger);
    expect(again).toMatchObject({ id: queued.id, status: 'queued', attempt: 2 });
    const final = (await watching.execute(again.id, { owner: 'test:2' }))!;
    expect(final.status).toBe('success');
    expect(systems.calls[0]).toBe('branch.ensure dev');
  });

  it('a step stopped by our database going away hands the operation back, never fails it; the next worker resumes there', async () => {
    const gone = new DatabaseUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    systems.failNext('portainer', 'ensure', gone, 3); // more than the two retries
    const queued = await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    const stopped = await run(queued);
    expect(stopped).toMatchObject({ status: 'running', error: null, failedStep: null });
    expect(stepStatuses(stopped)).toMatchObject({ cluster: 'done', portainer: 'running' });
    expect((await store.getOperation(queued.id))?.leaseOwner).toBeNull();
    expect((await store.getEnvironment(dev))?.status).toBe('creating');
    const resumed = (await engine.execute(queued.id, { owner: 'test:2' }))!;
    expect(resumed.status).toBe('success');
    expect(systems.calls.filter((c) => c.startsWith('cluster'))).toHaveLength(1);
  });

  it('a worker whose lease the database could not renew stops when the lease runs out', async () => {
    let failing = false;
    const flaky = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'renewLease' && failing)
          return () => Promise.reject(new DatabaseUnavailable(new Error('ECONNREFUSED')));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const short = new Engine({
      store: flaky,
      handlers: systems.handlers,
      retryDelaysMs: [],
      leaseMs: 600,
    });
    let stoppedAfter = 0;
    systems.during = async (step, _action, ctx) => {
      if (step !== 'cluster') return;
      failing = true;
      const began = Date.now();
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      stoppedAfter = Date.now() - began;
      failing = false;
      throw ctx.signal.reason as Error;
    };
    const queued = await short.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    const final = (await short.execute(queued.id, { owner: 'test:1' }))!;
    expect(final.status).toBe('running'); // handed back, not failed
    expect(stoppedAfter).toBeGreaterThanOrEqual(250);
    expect(stoppedAfter).toBeLessThan(3_000);
    delete systems.during;
    expect((await engine.execute(queued.id, { owner: 'test:2' }))!.status).toBe('success');
  });

  it('lets only one of two workers execute an operation', async () => {
    const queued = await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    const [a, b] = await Promise.all([
      engine.execute(queued.id, { owner: 'worker:a' }),
      engine.execute(queued.id, { owner: 'worker:b' }),
    ]);
    expect([a, b].filter((r) => r !== null)).toHaveLength(1);
    expect(systems.calls.filter((c) => c === 'branch.ensure dev')).toHaveLength(1);
  });

  it('syncs only the steps it is given, then the ready probe; the row stays ready', async () => {
    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    systems.calls.length = 0;
    const queued = await engine.request({
      kind: 'sync',
      name: dev,
      steps: ['branch', 'haproxy'],
      trigger: { ...trigger, actor: 'bob' },
    });
    expect(stepStatuses(queued)).toEqual({
      branch: 'pending',
      cluster: 'skipped',
      portainer: 'skipped',
      argocd: 'skipped',
      haproxy: 'pending',
      ready: 'pending',
    });
    const final = await run(queued);
    expect(final).toMatchObject({ kind: 'sync', status: 'success', trigger: { actor: 'bob' } });
    expect(systems.calls).toEqual(['branch.ensure dev', 'haproxy.ensure dev']);
    expect((await store.getEnvironment('dev'))?.status).toBe('ready');
    // A second one while it is queued is refused as busy; a name without a row is not synced.
    await engine.request({ kind: 'sync', name: dev, steps: ['branch'], trigger });
    await expect(
      engine.request({ kind: 'sync', name: dev, steps: ['branch'], trigger }),
    ).rejects.toThrow(/already has a sync operation/);
    await expect(
      engine.request({ kind: 'sync', name: envName('nope'), steps: ['branch'], trigger }),
    ).rejects.toThrow(/not in the database/);
  });

  it('stops and starts: only the cluster, then the ready probe; a failure leaves the row as it was', async () => {
    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    systems.calls.length = 0;
    const stopped = await run(await engine.request({ kind: 'stop', name: dev, trigger }));
    expect(stopped).toMatchObject({ kind: 'stop', status: 'success' });
    expect(stepStatuses(stopped)).toEqual({ cluster: 'done' });
    expect((await store.getEnvironment('dev'))?.status).toBe('stopped');
    await expect(engine.request({ kind: 'stop', name: dev, trigger })).rejects.toMatchObject({
      code: 'nothing_to_do',
      message: '"dev" is stopped already',
      fix: command('start', dev),
    });
    systems.failNext('cluster', 'start', new Error('docker: Cannot connect to the Docker daemon'));
    const failed = await run(await engine.request({ kind: 'start', name: dev, trigger }));
    expect(failed).toMatchObject({ status: 'failed', failedStep: 'cluster' });
    expect((await store.getEnvironment('dev'))?.status).toBe('stopped');
    const started = await run(await engine.retry(dev, trigger));
    expect(stepStatuses(started)).toEqual({ cluster: 'done', ready: 'done' });
    expect((await store.getEnvironment('dev'))?.status).toBe('ready');
    expect(systems.calls).toEqual(['cluster.stop dev', 'cluster.start dev', 'cluster.start dev']);
    // Not while it is being made or removed.
    await store.updateEnvironment(dev, { status: 'creating' });
    await expect(engine.request({ kind: 'stop', name: dev, trigger })).rejects.toThrow(
      '"dev" cannot be stopped while its status is creating; let its operation finish',
    );
  });

  it("prunes a name no row claims, through each step's prune, and never one with a row", async () => {
    const gone = envName('gone');
    systems.present.cluster.add('gone');
    systems.present.branch.add('gone');
    const queued = await engine.request({
      kind: 'prune',
      name: gone,
      steps: ['cluster', 'branch'],
      trigger,
    });
    const final = await run(queued);
    expect(final).toMatchObject({ kind: 'prune', status: 'success' });
    expect(systems.calls).toEqual(['cluster.prune gone', 'branch.prune gone']);
    expect(systems.present.cluster.has('gone')).toBe(false);
    expect(await store.getEnvironment('gone')).toBeNull();

    await run(await engine.request({ kind: 'create', name: dev, provider: 'k3d', trigger }));
    await expect(
      engine.request({ kind: 'prune', name: dev, steps: ['cluster'], trigger }),
    ).rejects.toThrow(/has a database row/);
  });

  it('stops a prune when a row for its name appears before a step: the create wins', async () => {
    const late = envName('late');
    const queued = await engine.request({
      kind: 'prune',
      name: late,
      steps: ['cluster', 'branch'],
      trigger,
    });
    await store.insertEnvironment({ name: late, provider: 'k3d' });
    const final = await run(queued);
    expect(final.status).toBe('cancelled');
    expect(final.error).toContain('a database row for "late" appeared');
    expect(systems.calls).toEqual([]);
    // The row is someone else's: its status is left alone.
    expect((await store.getEnvironment('late'))?.status).toBe('creating');
  });

  it('logs each operation it runs, every line bound to the operation, its kind and environment', async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const logging = new Engine({
      store,
      handlers: systems.handlers,
      retryDelaysMs: [],
      log: (level, message, fields = {}) => void lines.push({ level, message, fields }),
    });
    systems.failNext('cluster', 'ensure', new Error('docker is down'));
    const op = await logging.request({ kind: 'create', name: dev, provider: 'k3d', trigger });
    await logging.execute(op.id, { owner: 'test:log' });
    expect(lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'info operation started',
      'error step failed', // an Error that is not a Failure is a bug of ours: said as such
      'warn operation failed',
    ]);
    for (const line of lines)
      expect(line.fields).toMatchObject({
        operation: op.id,
        kind: 'create',
        env: 'dev',
        worker: 'test:log',
      });
    expect(lines[0]!.fields).toMatchObject({ actor: 'alice', trigger: 'cli', attempt: 1 });
    expect(lines[2]!.fields).toMatchObject({ step: 'cluster', error: 'docker is down' });
  });
});
