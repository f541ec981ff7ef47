// Prometheus metrics (prom-client), all named kindler_*. Operation and environment counts, the
// queue depth, health and undelivered writes are read from the database at scrape time — counted
// there, each query once per scrape, kept by the read cache until the database announces a change
// — so operations run by the CLI or another replica count too; step durations and webhook latency
// are observed in this process.
import client from 'prom-client';
import type { Operation } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { keptHealth } from '../consistency/health.js';
import { HEALTH_STATES } from '../domain/index.js';
import type { ReadCache } from '../store/read-cache.js';

type Store = Runtime['store'];

/** What one scrape read of the database, shared by the gauges that show it. */
interface Scrape {
  operations: Awaited<ReturnType<Store['operationCounts']>>;
  environments: { status: string; count: number }[];
  health: Awaited<ReturnType<typeof keptHealth>>;
  writes: Awaited<ReturnType<Store['undeliveredWrites']>>;
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly stepDuration: client.Histogram<'step' | 'verb' | 'status'>;
  private readonly webhook: client.Histogram<'event'>;
  private readonly reconcilePasses: client.Counter<'drift'>;
  private readonly reconcileRepairs: client.Counter<'outcome'>;
  private readonly reconcileSeconds: client.Gauge;

  /** The webhook events labelled by name (`ping` too); any other is counted as `other`. */
  private readonly events: ReadonlySet<string>;

  private scrape: Scrape = { operations: [], environments: [], health: {}, writes: [] };

  constructor(
    private readonly rt: Pick<Runtime, 'store'>,
    options: { webhookEvents: readonly string[]; now?: () => number },
  ) {
    this.events = new Set([...options.webhookEvents, 'ping']);
    const counts = () => this.scrape;
    // The health gauges are set again only when what they show was read anew (4 per environment).
    let shown: Scrape['health'] | null = null;
    const registry = this.registry;
    // The process metrics Prometheus clients expose (kindler_process_cpu_seconds_total, …), less
    // the three gauges prom-client names *_total: `_total` is for counters only.
    client.collectDefaultMetrics({ register: registry, prefix: 'kindler_' });
    for (const gauge of ['active_resources_total', 'active_handles_total', 'active_requests_total'])
      registry.removeSingleMetric(`kindler_nodejs_${gauge}`);
    // The event loop's delay figures (percentiles of a histogram: a quarter of a millisecond, half
    // of a scrape) are taken once a second at most: a scrape within the second shows the last.
    const lag = registry.getSingleMetric('kindler_nodejs_eventloop_lag_seconds') as
      { collect?: () => unknown } | undefined;
    const take = lag?.collect;
    const now = options.now ?? (() => performance.now());
    let takenAt = -Infinity;
    if (lag && take)
      lag.collect = function (this: unknown) {
        if (now() - takenAt < 1000) return;
        takenAt = now();
        return take.call(this);
      };
    this.stepDuration = new client.Histogram({
      name: 'kindler_step_duration_seconds',
      help: 'Duration of lifecycle steps run by this process',
      labelNames: ['step', 'verb', 'status'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600],
      registers: [registry],
    });
    this.reconcilePasses = new client.Counter({
      name: 'kindler_reconcile_passes_total',
      help: 'Passes of the reconcile loop run by this process, by whether they found drift',
      labelNames: ['drift'],
      registers: [registry],
    });
    this.reconcileRepairs = new client.Counter({
      name: 'kindler_reconcile_repairs_total',
      help: 'Automatic repairs the reconcile loop requested (queued), skipped or damped',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.reconcileSeconds = new client.Gauge({
      name: 'kindler_reconcile_last_pass_seconds',
      help: "Wall time of this process's last reconcile pass",
      registers: [registry],
    });
    new client.Gauge({
      name: 'kindler_environment_health',
      help: "Each environment's health as the reconcile loop last saw it (1 for the current state)",
      labelNames: ['env', 'health'],
      registers: [registry],
      collect() {
        const { health: now } = counts();
        if (now === shown) return;
        this.reset();
        for (const [env, h] of Object.entries(now))
          for (const health of HEALTH_STATES)
            this.set({ env, health }, h.health === health ? 1 : 0);
        shown = now;
      },
    });
    this.webhook = new client.Histogram({
      name: 'kindler_webhook_duration_seconds',
      help: 'Time from receiving a webhook delivery to answering it',
      labelNames: ['event'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    new client.Gauge({
      // A gauge (an operation moves from running to its outcome): no _total.
      name: 'kindler_operations',
      help: 'Operations recorded, by verb and status (read from the database)',
      labelNames: ['verb', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        for (const row of counts().operations)
          this.set({ verb: row.kind, outcome: row.status }, row.count);
      },
    });
    new client.Gauge({
      name: 'kindler_queue_depth',
      help: 'Operations waiting for a worker (queued)',
      registers: [registry],
      collect() {
        this.set(
          counts()
            .operations.filter((r) => r.status === 'queued')
            .reduce((n, r) => n + r.count, 0),
        );
      },
    });
    new client.Gauge({
      name: 'kindler_github_writes_undelivered',
      help: 'Writes to GitHub not taken: refused, given up, or waiting for another try',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of counts().writes) this.inc({ state: w.state });
      },
    });
    new client.Gauge({
      name: 'kindler_environments',
      help: 'Environments by status',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { status, count } of counts().environments) this.set({ status }, count);
      },
    });
  }

  /** Records the steps of a finished operation. */
  operationFinished(op: Operation): void {
    for (const s of op.steps) {
      if (!s.startedAt || !s.completedAt) continue;
      this.stepDuration.observe(
        { step: s.step, verb: op.kind, status: s.status },
        (s.completedAt.getTime() - s.startedAt.getTime()) / 1000,
      );
    }
  }

  /** Label values come from a closed set: a forged event name is `other`, never a new series. */
  /** A reconcile pass: whether it found drift, what it repaired, how long it took. */
  reconciled(pass: { drift: boolean; queued: number; skipped: number; damped: number }, s: number) {
    this.reconcilePasses.inc({ drift: String(pass.drift) });
    for (const outcome of ['queued', 'skipped', 'damped'] as const)
      this.reconcileRepairs.inc({ outcome }, pass[outcome]);
    this.reconcileSeconds.set(s);
  }

  webhookAnswered(event: string, seconds: number): void {
    this.webhook.observe({ event: this.events.has(event) ? event : 'other' }, seconds);
  }

  /** The scrape: what the database holds read once (from `cache` when nothing changed since). */
  async render(cache?: ReadCache): Promise<{ contentType: string; body: string }> {
    const { store } = this.rt;
    const read = <T>(key: string, fn: () => Promise<T>) =>
      cache ? cache.get(`metrics ${key}`, fn) : fn();
    const [operations, environments, health, writes] = await Promise.all([
      read('operations', () => store.operationCounts()),
      read('environments', () => store.environmentCounts()),
      read('health', () => keptHealth(store)),
      read('writes', () => store.undeliveredWrites(1000)),
    ]);
    this.scrape = { operations, environments, health, writes };
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
