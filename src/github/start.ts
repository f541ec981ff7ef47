// Starts the GitHub side when the app is configured: the webhook endpoint on our server (signature
// verified, the delivery stored in the durable queue, answered at once), the app handling stored
// deliveries, and a worker whose operations report to GitHub.
import { ProbotOctokit, createProbot, type Probot } from 'probot';
import type { Operation } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import type { Handler } from '../server/http-server.js';
import { kindlerApp, plainError, receiveDelivery } from './app.js';
import { PermissionCache } from './permissions.js';
import { operationReporter } from './reporter.js';
import { Outbox } from './outbox.js';
import type { GitHubClient } from './types.js';
import { Worker } from './worker.js';
import { OperationQueue, everyMinutes } from '../queue/operation-queue.js';
import { every, everyTurn, type Stoppable } from '../queue/turns.js';
import { Notifier } from '../server/notifier.js';
import { DELIVERY_CONCURRENCY, receiveWebhook } from './intake.js';
import { sweepExpiry } from './expiry.js';
import { answerConsistency, type ConsistencyRequest } from './consistency.js';
import { monitorPass, type MonitorDeps } from './monitor.js';
import { driftIntervalMs } from '../config/config.js';
import { installationClient } from './config-repo.js';
import { authorityFor } from './authority.js';
import { refreshSites } from './site-declaration.js';
import type { ConsoleAccess } from '../web/principals.js';
import { httpStatusOf, messageOf } from '../domain/index.js';
import { logFn } from '../system/log.js';
import { installationKey, splitRepo, type RepoRef } from './types.js';
import type { Metrics } from '../server/metrics.js';
import type { Queryable } from '../store/db.js';

export const WEBHOOK_PATH = '/api/github/webhooks';
const EXPIRY_SCHEDULE = 'kindler-expiry';
const DRIFT_SCHEDULE = 'kindler-drift';
const OUTBOX_SCHEDULE = 'kindler-outbox';
const HISTORY_SCHEDULE = 'kindler-history';
/** How often the config repository's sites are read when no push said they changed. */
const SITES_EVERY_MS = 5 * 60_000;

/** Forgets what KINDLER_HISTORY_DAYS and KINDLER_HISTORY_PER_ENV say need not be kept. */
export function pruneHistory(
  rt: Pick<Runtime, 'store' | 'config'>,
  now = new Date(),
): Promise<number> {
  const days = rt.config.KINDLER_HISTORY_DAYS;
  const perEnv = rt.config.KINDLER_HISTORY_PER_ENV;
  return rt.store.pruneHistory({
    olderThan: days > 0 ? new Date(now.getTime() - days * 86_400_000) : null,
    keepPerEnv: perEnv > 0 ? perEnv : null,
  });
}

/**
 * The app's GitHub client. Retries, pacing and limits are the bot's own, kept in the database for
 * every replica (the outbox; the steps' transient retries): Octokit does not retry a write whose
 * answer was lost (a 502 after GitHub wrote it would be written twice), does not queue writes a
 * second apart in each process (a write waiting there holds its claim and delays every other), and
 * does not wait out a rate limit in one process while the others keep writing.
 */
export const KindlerOctokit = ProbotOctokit.defaults((options: object) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export function appConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.APP_ID && (env.PRIVATE_KEY || env.PRIVATE_KEY_PATH) && env.WEBHOOK_SECRET);
}

export async function startGitHub(
  rt: Runtime,
  env: NodeJS.ProcessEnv,
  owner: string,
  metrics?: Metrics,
  existing?: Probot,
): Promise<{
  handler: Handler | null;
  worker: Worker;
  probot: Probot | null;
  /** Stops the reconcile loop and the alerts' delivery of this process (before the worker). */
  stopLoops: () => Promise<void>;
  /** A GitHub user's permission for a verb, decided as for their comment (the console's API). */
  decide?: ConsoleAccess['decide'];
}> {
  let worker: Worker;
  const logError = (what: string) => (error: unknown) =>
    rt.log.error({ component: what, err: plainError(error) }, `${what}: ${messageOf(error)}`);
  const interval = driftIntervalMs(rt.config);
  const queue = await OperationQueue.open({
    database: rt.store.queueDatabase(),
    onError: logError('queue'),
    leaseMs: rt.config.KINDLER_LEASE_MS,
  });
  // The reconcile loop, taken in turns among replicas (an earlier version's schedule removed).
  await queue.unschedule(DRIFT_SCHEDULE);
  const loops: Stoppable[] = [];
  // Alerts go out from every process (each claims its own), every few seconds.
  const notifyUrl = rt.config.KINDLER_NOTIFY_URL;
  const notifier =
    notifyUrl &&
    new Notifier(rt.store, notifyUrl, {
      redact: (text) => rt.redactor.redact(text),
      log: (line) => rt.log.warn(line),
    });
  if (notifier) loops.push(every(5_000, () => notifier.pass(), logError('notify')));
  const reconcileEvery = (github?: MonitorDeps['github']) => {
    if (interval > 0)
      loops.push(
        everyTurn(
          rt.store,
          'reconcile',
          interval,
          () => monitorPass({ rt, metrics, ...(github ? { github } : {}) }),
          logError('reconcile'),
        ),
      );
  };
  const stopLoops = async () => {
    await Promise.all(loops.map((l) => l.stop()));
  };
  // From here on an operation recorded in this process has its job from the moment it exists.
  rt.store.enqueueWith(queue.enqueueIn);
  const workerOptions = {
    owner,
    queue,
    concurrency: rt.config.KINDLER_WORKER_CONCURRENCY,
    leaseMs: rt.config.KINDLER_LEASE_MS,
    onError: logError('worker'),
    ...(metrics ? { onFinished: (op: Operation) => metrics.operationFinished(op) } : {}),
  };
  // Operation history stays bounded, with or without the app: hourly, once among replicas.
  await queue.every(HISTORY_SCHEDULE, everyMinutes(60), async () => {
    const forgotten = await pruneHistory(rt).catch(logError('history'));
    if (forgotten) rt.log.info({ forgotten }, 'operation history pruned');
  });
  if (!appConfigured(env)) {
    worker = new Worker(rt, workerOptions);
    await worker.start();
    // Without the app nothing would work the GitHub schedules of an earlier configuration.
    for (const name of [EXPIRY_SCHEDULE, OUTBOX_SCHEDULE]) await queue.unschedule(name);
    reconcileEvery();
    return { handler: null, worker, probot: null, stopLoops };
  }
  const probot = existing ?? createProbot({ env, overrides: { Octokit: KindlerOctokit } });
  const installationOf = (repo: RepoRef) => rt.store.getState(installationKey(repo));
  // Known from a webhook, or else asked of GitHub once (the reconcile loop's reports go to the
  // config repository, which may not have sent an event yet): null when the app is not there.
  const octokitFor = async (repo: RepoRef) => {
    let installation = await installationOf(repo);
    if (!installation) {
      const app = (await probot.auth()) as unknown as GitHubClient;
      installation = await app.rest.apps.getRepoInstallation({ ...repo }).then(
        (r) => r.data.id,
        (error: unknown) => {
          if (httpStatusOf(error) === 404) return null;
          throw error;
        },
      );
      if (installation) await rt.store.setState(installationKey(repo), installation);
    }
    return installation ? ((await probot.auth(installation)) as unknown as GitHubClient) : null;
  };
  const outbox = new Outbox({
    store: rt.store,
    redactor: rt.redactor,
    urls: rt.urls,
    clientFor: octokitFor,
    owner,
    log: logFn(rt.log.child({ component: 'outbox' })),
    // A GitHub write, like an operation, is presumed abandoned when its holder is silent this long.
    leaseMs: Math.min(rt.config.KINDLER_LEASE_MS, 60_000),
    writeGapMs: rt.config.KINDLER_GITHUB_WRITE_GAP_MS,
    keepWritesMs: rt.config.KINDLER_WRITES_KEEP_DAYS * 86_400_000,
  });
  const configRepoName = rt.config.KINDLER_CONFIG_REPO;
  const deps = {
    rt,
    permissions: new PermissionCache(),
    configRepo: configRepoName,
    ...(configRepoName
      ? {
          configClient: installationClient(probot, splitRepo(configRepoName), () =>
            installationOf(splitRepo(configRepoName)),
          ),
        }
      : {}),
    outbox,
    later: (request: ConsistencyRequest, tx?: Queryable) => queue.request(request, tx),
    log: logFn(rt.log.child({ component: 'github' })),
  };
  await probot.load(kindlerApp(deps));
  // A failure is logged and recorded by the queue as a plain message (it is retried).
  await queue.workDeliveries(DELIVERY_CONCURRENCY, (delivery) =>
    receiveDelivery(probot, delivery, { queued: true }).catch((error: unknown) => {
      probot.log.warn({ err: error, id: delivery.id, event: delivery.name }, 'delivery failed');
      throw error;
    }),
  );
  await queue.workRequests<ConsistencyRequest>(async (request) => {
    const octokit = await octokitFor(splitRepo(request.trigger.repo));
    if (!octokit) throw new Error(`no installation of the app covers ${request.trigger.repo}`);
    await answerConsistency(rt, outbox, octokit, request);
  });
  worker = new Worker(rt, {
    ...workerOptions,
    // Bound whether or not the status comment exists yet: the outbox creates what is missing.
    observerFor: async (op: Operation) =>
      op.trigger.repo ? operationReporter(outbox, { log: logFn(rt.log) }) : null,
  });
  await worker.start();
  // Periodic work on the queue's schedules: one run per occurrence among replicas.
  const logged = (what: string, task: () => Promise<unknown>) => async () => {
    try {
      probot.log.info({ result: await task() }, what);
    } catch (error) {
      probot.log.warn({ err: error }, `${what} failed`);
    }
  };
  // What a previous process left undelivered goes out now, not at the first scheduled pass.
  void outbox.pass().catch(logError('outbox'));
  // Each minute: what is due goes out; finished writes (in the pass) and the deliveries seen —
  // kept while GitHub may still redeliver them — are forgotten once past their retention.
  await queue.every(
    OUTBOX_SCHEDULE,
    everyMinutes(1),
    logged('outbox pass', async () => ({
      sent: await outbox.pass(),
      deliveriesForgotten: await rt.store.forgetDeliveries(
        rt.config.KINDLER_DELIVERIES_KEEP_DAYS * 86_400_000,
      ),
    })),
  );
  await queue.every(
    EXPIRY_SCHEDULE,
    everyMinutes(1),
    logged('expiry sweep', () => sweepExpiry(deps, octokitFor)),
  );
  const configRepo = rt.config.KINDLER_CONFIG_REPO
    ? splitRepo(rt.config.KINDLER_CONFIG_REPO)
    : null;
  // Known from a webhook, or else asked of GitHub: which installation covers the config repo.
  const installed =
    configRepo && installationClient(probot, configRepo, () => installationOf(configRepo));
  // The config repository's sites: read now, and in turns after (a push answers at once); not
  // while KINDLER_SITES is the one source (a push that changes them is told so).
  if (installed && configRepo && !rt.config.KINDLER_SITES) {
    const sites = async () => refreshSites(deps, await installed(), configRepo);
    void sites().catch(logError('sites'));
    loops.push(everyTurn(rt.store, 'sites', SITES_EVERY_MS, sites, logError('sites')));
  }
  reconcileEvery(
    installed && configRepo
      ? {
          target: async () => ({ outbox, octokit: await installed(), repo: configRepo }),
          policy: (octokit) => deps.permissions.policy(octokit, configRepo),
        }
      : undefined,
  );
  const handler: Handler = async (req, res) => {
    // The webhook path exactly (a query string aside): /api/github/webhooksXYZ is not it.
    if (new URL(req.url ?? '/', 'http://x').pathname !== WEBHOOK_PATH) return false;
    const started = performance.now();
    res.once('finish', () =>
      metrics?.webhookAnswered(
        String(req.headers['x-github-event'] ?? 'unknown'),
        (performance.now() - started) / 1000,
      ),
    );
    await receiveWebhook(req, res, probot, queue, String(env.WEBHOOK_SECRET));
    return true;
  };
  // The console judges a GitHub user as their comment in the config repository would be.
  const configClient = deps.configClient;
  const decide: ConsoleAccess['decide'] =
    configRepoName && configClient
      ? async (login, verb, envName) =>
          (await authorityFor(deps, await configClient(), splitRepo(configRepoName))).decide({
            verb,
            envName,
            login,
          })
      : undefined;
  return { handler, worker, probot, stopLoops, ...(decide ? { decide } : {}) };
}
