// Process settings come from environment variables (and a .env file, read by the entry points).
// This is the one parser: everything else receives a typed Config. Names follow upstream Kindler
// (config/git.env, clusters.env, secrets.env) so an existing installation can `source` its files.
import path from 'node:path';
import { z } from 'zod';
import { parseInterval } from '../commands/duration.js';
import { packageRoot } from '../system/package-root.js';
import { gitServicePassword } from './git-service-password.js';
import { siteUrls, type Site, type UrlSettings } from '../domain/index.js';
import { secretsOf, siteKeysOf } from './secrets.js';
import { bootstrapSettings } from './devops-env.js';

const port = z.coerce.number().int().min(1).max(65535);
export const range = z
  .string()
  .regex(/^\d+-\d+$/, 'expected a range like 18090-18999')
  .transform((s) => {
    const [from, to] = s.split('-').map(Number) as [number, number];
    return { from, to };
  })
  .refine(
    (r) => r.from <= r.to && r.from >= 1 && r.to <= 65535,
    'the range must be ascending, within 1-65535',
  );
const optional = z.string().trim().min(1).optional();
/** An interval as typed (30s, 5m, 1h; 0 off), in ms; refused below `minMs`. */
const interval = (minMs: number) => (text: string, ctx: z.RefinementCtx) => {
  const parsed = parseInterval(text, minMs);
  if (parsed.ok) return parsed.ms ?? 0;
  ctx.addIssue({ code: 'custom', message: parsed.reason });
  return z.NEVER;
};

const schema = z.object({
  DATABASE_URL: optional,
  /** Unset: `data/` in the kindler-bot directory, wherever the server or the CLI is run from. */
  KINDLER_DATA_DIR: z.string().optional(),
  /**
   * The store when DATABASE_URL is unset: `embedded` (a PostgreSQL of its own under the data dir,
   * shared by the server and the CLI) or `pglite` (in the process; one process at a time).
   */
  KINDLER_DB: z.enum(['embedded', 'pglite']).default('embedded'),
  GIT_REPO_URL: optional,
  GIT_USERNAME: optional,
  GIT_PASSWORD: optional,
  GIT_DEFAULT_BRANCH: z.string().default('main'),
  GIT_COMMIT_NAME: z.string().default('kindler-bot'),
  GIT_COMMIT_EMAIL: z.string().default('kindler-bot@users.noreply.github.com'),
  BASE_DOMAIN: z.string().default('127.0.0.1.sslip.io'),
  KINDLER_INGRESS_CLASS: z.string().default('traefik'),
  /** A directory with a deploy/ folder of branch templates; unset → this package's templates/. */
  KINDLER_TEMPLATES_DIR: optional,
  HAPROXY_HOST: z.string().default('127.0.0.1'),
  /** The gateway's http port (upstream's name), probed by the ready step. */
  HAPROXY_HTTP_PORT: port.default(80),
  /** How long the ready step waits for the environment to answer, in seconds; 0 skips it. */
  KINDLER_READY_TIMEOUT: z.coerce.number().int().min(0).default(300),
  PORTAINER_URL: optional,
  PORTAINER_API_KEY: optional,
  PORTAINER_ADMIN_USER: z.string().default('admin'),
  PORTAINER_ADMIN_PASSWORD: optional,
  /** The Portainer URL as the Edge Agent sees it (defaults to PORTAINER_URL). */
  PORTAINER_EDGE_URL: optional,
  PORTAINER_GROUP_ID: z.coerce.number().int().min(1).default(1),
  PORTAINER_AGENT_IMAGE: z.string().default('portainer/agent:latest'),
  DEVOPS_CONTEXT: optional,
  /** The kubeconfig file holding DEVOPS_CONTEXT (bootstrap writes one); unset → KUBECONFIG. */
  DEVOPS_KUBECONFIG: optional,
  KUBECONFIG: optional,
  /** `kindler bootstrap`: the devops k3d cluster's name and the host port of its API server. */
  KINDLER_DEVOPS_CLUSTER: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'expected a short DNS label')
    .default('devops'),
  KINDLER_DEVOPS_API_PORT: port.default(6550),
  /** The Argo CD install manifest bootstrap applies; unset → the pinned one in this package. */
  KINDLER_ARGOCD_MANIFEST: optional,
  /** The gateway container bootstrap runs (`haproxy-gw`, on the host network). */
  KINDLER_HAPROXY_IMAGE: z.string().default('haproxy:2.8'),
  /** The Portainer CE container bootstrap runs, and the loopback port its API is published on. */
  KINDLER_PORTAINER_IMAGE: z.string().default('portainer/portainer-ce:2.21.5'),
  KINDLER_PORTAINER_PORT: port.default(9000),
  ARGOCD_NAMESPACE: z.string().default('argocd'),
  ARGOCD_APPSET_NAME: z.string().default('whoami'),
  /**
   * How the devops cluster reaches a new cluster's API when its kubeconfig says 127.0.0.1/0.0.0.0.
   */
  ARGOCD_CLUSTER_HOST: z.string().default('host.k3d.internal'),
  /** Argo CD's web UI, for the console's link to an environment's Application. */
  ARGOCD_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Where Argo CD clones the branches when it differs from where the bot writes them. */
  ARGOCD_REPO_URL: optional,
  /**
   * A second address (`host:port`) the built-in Git service alone listens on: the devops
   * cluster's Docker network gateway, which `host.k3d.internal` names (bootstrap sets it), so
   * Argo CD can clone while the bot itself stays bound to loopback.
   */
  KINDLER_GIT_SERVICE_LISTEN: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, like 172.18.0.1:3000')
    .optional(),
  /**
   * Where the devops cluster reaches this bot's built-in Git service (the branches kept under the
   * data dir, served at /kindler/git/environments.git); unset →
   * http://<ARGOCD_CLUSTER_HOST>:<PORT>.
   */
  KINDLER_GIT_SERVICE_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  HAPROXY_CONFIG: optional,
  KINDLER_SITES: optional, // the Docker hosts to place environments on (config/sites.ts)
  HAPROXY_RELOAD_COMMAND: optional,
  HAPROXY_BIN: z.string().default('haproxy'),
  /** Where a new gateway config is validated; `{file}` is the candidate, else it comes on stdin. */
  HAPROXY_CHECK_COMMAND: optional,
  /** Where HAProxy reaches an environment whose node IP is unknown: <this>:<http_port>. */
  HAPROXY_BACKEND_HOST: z.string().default('127.0.0.1'),
  K3D_IMAGE: z.string().default('rancher/k3s:v1.31.5-k3s1'),
  KIND_NODE_IMAGE: z.string().default('kindest/node:v1.31.12'),
  /** The ingress controller kind environments get (upstream: traefik:v2.10 on the NodePort). */
  KIND_INGRESS_IMAGE: z.string().default('traefik:v2.10'),
  /**
   * kind `networking.apiServerAddress`; upstream uses 0.0.0.0 so Argo CD in the devops cluster can
   * reach it.
   */
  KIND_API_SERVER_ADDRESS: z.string().default('0.0.0.0'),
  KINDLER_HTTP_PORTS: range.default({ from: 18090, to: 18999 }),
  KINDLER_HTTPS_PORTS: range.default({ from: 18443, to: 18999 }),
  KINDLER_PF_PORTS: range.default({ from: 19000, to: 19999 }),
  KINDLER_K3D_NODE_PORT: port.default(30080),
  KINDLER_KIND_NODE_PORTS: range.default({ from: 30081, to: 32767 }),
  /** k3d subnets: 10.<n>.0.0/16 for n in this range (upstream: 10.101.0.0/16, 10.102.0.0/16, …). */
  KINDLER_SUBNET_OCTETS: range.default({ from: 101, to: 254 }),
  KINDLER_CLI_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
  KINDLER_LEASE_MS: z.coerce.number().int().positive().default(60_000),
  /** How long a CLI command waits for its database to answer again mid-operation. */
  KINDLER_DB_WAIT_SECONDS: z.coerce.number().int().min(0).default(120),
  /** Waits before retrying a step that failed with a transient error (comma-separated ms). */
  KINDLER_RETRY_DELAYS_MS: z
    .string()
    .regex(/^(none|\d+(,\d+)*)$/, 'expected comma-separated milliseconds (e.g. 1000,4000) or none')
    .default('1000,4000')
    .transform((s) => (s === 'none' ? [] : s.split(',').map(Number))),
  KINDLER_WORKER_CONCURRENCY: z.coerce.number().int().positive().default(2),
  /** Replicas on one host's network share PORT (SO_REUSEPORT; the kernel spreads connections). */
  KINDLER_REUSE_PORT: z.enum(['true', 'false']).default('false'),
  /** How many operations of one batch (`/env delete --label …`) run at once. */
  KINDLER_BATCH_PARALLEL: z.coerce.number().int().positive().max(50).default(4),
  KINDLER_PR_TTL_HOURS: z.coerce.number().nonnegative().default(72),
  /** How long before expiry the warning comment is posted. */
  KINDLER_EXPIRY_WARNING_HOURS: z.coerce.number().nonnegative().default(24),
  /** owner/repo where the drift monitor keeps its tracking issue; unset → no drift monitor. */
  KINDLER_CONFIG_REPO: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/repo')
    .optional(),
  /**
   * A consistency report this fresh is shared instead of checking again (GitHub commands, buttons).
   */
  KINDLER_CHECK_FRESH_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Minutes between scheduled consistency checks (0 turns the drift monitor off). */
  KINDLER_DRIFT_INTERVAL_MINUTES: z.coerce.number().nonnegative().default(60),
  /**
   * The reconcile loop's interval as a duration (30s, 5m, 1h; 0 off), at least 5 s; when set it
   * wins over KINDLER_DRIFT_INTERVAL_MINUTES.
   */
  KINDLER_DRIFT_INTERVAL: z
    .string()
    .optional()
    .transform((text, ctx) => (text?.trim() ? interval(5000)(text, ctx) : undefined)),
  /**
   * What the reconcile loop repairs by itself: `non-destructive` (what a sync does: creates and
   * updates, never deletes) or `off`. Unset: the config repository's `auto_repair`, else off.
   */
  KINDLER_AUTO_REPAIR: z.enum(['off', 'non-destructive']).optional(),
  /** Automatic repairs of one environment in an hour before the loop leaves it to a person. */
  KINDLER_AUTO_REPAIR_MAX_PER_HOUR: z.coerce.number().int().min(1).default(3),
  /**
   * Where alerts go (an environment turned degraded, drifting too long, given up on): a JSON POST
   * with a Slack-compatible `text`. Unset: no alerts.
   */
  KINDLER_NOTIFY_URL: z.string().url().optional(),
  /** How long an environment may stay drifted before an alert says so. */
  KINDLER_DRIFT_ALERT_AFTER: z.string().default('1h').transform(interval(0)),
  /** Finished operations older than this many days are forgotten (0: kept whatever their age). */
  KINDLER_HISTORY_DAYS: z.coerce.number().int().min(0).default(90),
  /** At most this many operations are kept per environment (0: no limit by count). */
  KINDLER_HISTORY_PER_ENV: z.coerce.number().int().min(0).default(50),
  /**
   * The least time between two writes to GitHub for one account, among every replica (GitHub
   * allows 80 content-creating requests a minute: 750 ms). 0 turns pacing off (limits GitHub
   * answers with are still kept).
   */
  KINDLER_GITHUB_WRITE_GAP_MS: z.coerce.number().int().min(0).max(60_000).default(750),
  /** Days a webhook delivery is remembered (a redelivery within them is recognised). */
  KINDLER_DELIVERIES_KEEP_DAYS: z.coerce.number().positive().default(7),
  /** Days a finished GitHub write (taken, refused, given up) stays on the dashboard. */
  KINDLER_WRITES_KEEP_DAYS: z.coerce.number().positive().default(7),
  /** Live console streams one reader may hold open at once (the process holds at most 100). */
  KINDLER_LIVE_PER_READER: z.coerce.number().int().min(1).max(100).default(8),
  /** Seconds one live stream lasts before the browser reconnects (and is judged again). */
  KINDLER_LIVE_LIFETIME_SECONDS: z.coerce.number().int().min(1).default(600),
  /**
   * Names starting with this belong to pull requests (`pr-<number>`): only a pull request's label
   * creates one; comments, the console and the API are refused.
   */
  KINDLER_PR_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,19}$/, 'expected the start of a DNS label, like pr-')
    .default('pr-'),
  /**
   * The local operator's credential for the dashboard, its API and /metrics (Bearer header, or
   * ?token= once, traded for a session); unset, anonymous reads are served to loopback only.
   */
  KINDLER_DASHBOARD_TOKEN: optional,
  /**
   * The GitHub App's OAuth client: "Sign in with GitHub" on the console (written by
   * /kindler/setup).
   */
  GITHUB_CLIENT_ID: optional,
  GITHUB_CLIENT_SECRET: optional,
  /** The address the bot is reached at (app registration; the dashboard links GitHub shows). */
  KINDLER_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  HOST: z.string().default('127.0.0.1'),
  /** 0: any free port (the start-up banner says which). */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Unset: readable lines on a terminal, one JSON object per line otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export type RawConfig = z.infer<typeof schema>;

/** Every variable the configuration reads (docs/configuration.md documents each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** How environment URLs are written (see environmentUrl): the gateway's port when there is one. */
export const urlSettings = (config: RawConfig, sites: readonly Site[] = []): UrlSettings => ({
  baseDomain: config.BASE_DOMAIN,
  gatewayPort: config.HAPROXY_CONFIG ? config.HAPROXY_HTTP_PORT : null,
  dashboard: config.KINDLER_PUBLIC_URL ?? null,
  sites: siteUrls(sites),
});

export interface Config extends RawConfig {
  dataDir: string;
  csvPath: string;
  /** Values never to be shown anywhere: fed to the Redactor. */
  secrets: string[];
  /** The sites' Portainer API keys, by variable (PORTAINER_API_KEY_<SITE>). */
  portainerKeys: Record<string, string>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const given = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  // What `kindler bootstrap` made, from <data dir>/devops.env; a variable set by the user wins.
  const cleaned = { ...bootstrapSettings(dataDirOf(given.KINDLER_DATA_DIR, cwd)), ...given };
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(
      `invalid configuration:\n${lines.join('\n')}\nTo resolve, fix these environment ` +
        `variables (see docs/configuration.md).`,
    );
  }
  const raw = parsed.data;
  const dataDir = dataDirOf(raw.KINDLER_DATA_DIR, cwd);
  return {
    ...raw,
    dataDir,
    csvPath: path.join(dataDir, 'environments.csv'),
    secrets: secretsOf(raw, env, gitServicePassword(dataDir) ?? undefined),
    portainerKeys: siteKeysOf(env),
  };
}

/**
 * One default that `npm start` and `kindler` agree on from any directory; a value given is taken
 * relative to where it is given.
 */
const dataDirOf = (given: string | undefined, cwd: string) =>
  given ? path.resolve(cwd, given) : path.join(packageRoot(), 'data');

/** How often the reconcile loop runs, in ms (0: it does not). */
export const driftIntervalMs = (config: Config): number =>
  config.KINDLER_DRIFT_INTERVAL ?? config.KINDLER_DRIFT_INTERVAL_MINUTES * 60_000;
