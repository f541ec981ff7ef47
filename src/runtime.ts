// Wiring: from a Config to a store, the step handlers over real adapters, and the engine. The
// CLI, the app and the dashboard all start here; tests pass overrides for what cannot run here.
import {
  messageOf,
  configOf,
  versionBy,
  type UrlSettings,
  Redactor,
  type Environment,
  type Site,
} from './domain/index.js';
import type { Config } from './config/config.js';
import { Engine } from './lifecycle/engine.js';
import type { StepHandler, SystemStep } from './lifecycle/step.js';
import type { BranchStore, RepositoryAccess } from './git/branch-store.js';
import { BranchStep, type Render } from './git/branch-step.js';
import { GitHubHeadSource, type HeadSource } from './git/github-head.js';
import { BranchRender, type ExpectedTree } from './git/branch-render.js';
import { GitCliBranchStore } from './git/git-cli-branch-store.js';
import { splitCredentials } from './git/git-repos.js';
import { localBareRepo } from './git/git-repos.js';
import { ensureGitServicePassword, gitServiceAccess } from './git/git-service.js';
import { ClusterStep } from './providers/cluster-step.js';
import { KindIngress } from './providers/kind-ingress.js';
import { missingCommands } from './providers/provider.js';
import { loadSites } from './config/sites.js';
import { siteDefaults, siteStates } from './lifecycle/placement.js';
import { ArgoCdStep } from './registrars/argocd-step.js';
import { cliSettings, LiveSites } from './runtime-sites.js';
import { knownSites, type KnownSites } from './store/declared-sites.js';
import { HaproxyStep } from './registrars/haproxy-step.js';
import { KubeClient } from './registrars/kube.js';
import { PortainerStep } from './registrars/portainer-step.js';
import { ReadinessProbe, readySites } from './registrars/readiness.js';
import { HealthObserver } from './registrars/health-observer.js';
import { SnapshotWriter } from './store/csv-snapshot.js';
import { openStore, rangesFrom } from './store/open-store.js';
import type { Store } from './store/store.js';
import { createLogger, logFn, type Logger } from './system/log.js';
import path from 'node:path';

export { cliSettings };

/** The built-in Git service as the devops cluster reaches it. */
export const gitServiceBase = (config: Config): string =>
  config.KINDLER_GIT_SERVICE_URL ?? `http://${config.ARGOCD_CLUSTER_HOST}:${config.PORT}`;

export interface Runtime {
  config: Config;
  /** The process's logger (see system/log.ts). */
  log: Logger;
  /** How environment URLs are written (see environmentUrl). */
  urls: UrlSettings;
  /** Where environments are placed (KINDLER_SITES, the config repository's; else `local`). */
  readonly sites: readonly Site[];
  /** From now on, these sites (the config repository declared others); throws when unusable. */
  useSites(known: KnownSites): void;
  /** Whether `known` differs from the sites used now. */
  sitesDiffer(known: KnownSites): boolean;
  /** Why `sites` could not be used (a site's Portainer without its key); null: they can. */
  sitesProblem(sites: readonly Site[]): string | null;
  store: Store;
  engine: Engine;
  redactor: Redactor;
  branches: BranchStore;
  /** The Argo CD step over a devops cluster client (bootstrap's, before DEVOPS_CONTEXT is set). */
  argoStep: (devops: () => Promise<KubeClient>) => ArgoCdStep;
  /** The built-in Git service's repository root and credential, when the branches are local. */
  gitService: { projectRoot: string; password: string } | null;
  /** The only way to the outside systems: each step's handler over its adapter. */
  handlers: Record<SystemStep, StepHandler>;
  /** What each environment's health is read from (the reconcile loop's). */
  health: HealthObserver;
  /** An environment's kubeconfig (a secret: never logged, sent only to who may change it). */
  kubeconfigFor(env: Environment): Promise<string>;
  /** What an environment's branch should hold (deploy/ from the templates, or head `at`). */
  render: Render;
  /** Each environment's expected deploy/ tree id (see BranchRender.trees). */
  expectedTrees(envs: Environment[]): Promise<Map<string, ExpectedTree>>;
  refreshSnapshot(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  store?: Store;
  /** Where branches live when the app runs (the config repo through the GitHub API). */
  branches?: BranchStore;
  /** How pull-request heads are read (the app's installations); absent, only what is kept. */
  heads?: (store: Store) => HeadSource;
  ownerAlive?: (owner: string) => boolean;
  retryDelaysMs?: number[];
  log?: Logger;
  /** How long the CSV snapshot's first rewrite waits (the CLI's: it writes once, at its end). */
  snapshotFirstAfterMs?: number;
}

export async function openRuntime(
  config: Config,
  overrides: RuntimeOverrides = {},
): Promise<Runtime> {
  // What the configuration lacks is refused before anything is opened: KINDLER_SITES's parts are
  // built now; the config repository's sites are read from the database once it is open.
  const sites = loadSites(config.KINDLER_SITES);
  const ranges = rangesFrom(config, sites);
  const cli = cliSettings(config);
  const fromFile = config.KINDLER_SITES
    ? LiveSites.of(config, cli, ranges, { sites, source: 'KINDLER_SITES', declared: null })
    : null;
  const store = overrides.store ?? (await openStore(config, ranges));
  try {
    const live = fromFile ?? LiveSites.of(config, cli, ranges, await knownSites(config, store));
    return await assemble(config, overrides, { store, live });
  } catch (error) {
    // Nothing opened here is left open (a CLI would wait on the pool before it exits).
    if (!overrides.store) await store.close().catch(() => undefined);
    throw error;
  }
}

async function assemble(
  config: Config,
  overrides: RuntimeOverrides,
  opened: { store: Store; live: LiveSites },
): Promise<Runtime> {
  const { store, live } = opened;
  const { fleet, urls, gateways, portainers } = live;
  // Branches kept under the data dir are served to Argo CD by the built-in Git service.
  const localRepo =
    !overrides.branches && !config.GIT_REPO_URL ? await localBareRepo(config.dataDir) : null;
  const gitPassword = localRepo ? ensureGitServicePassword(config.dataDir) : null;
  const redactor = new Redactor([...config.secrets, ...(gitPassword ? [gitPassword] : [])]);
  const log = overrides.log ?? createLogger(config, redactor);
  const kubeconfigFor = (env: Environment) => fleet.kubeconfig(env);
  const branches =
    overrides.branches ??
    new GitCliBranchStore({
      url: config.GIT_REPO_URL ?? (localRepo as string),
      username: config.GIT_USERNAME,
      password: config.GIT_PASSWORD,
      defaultBranch: config.GIT_DEFAULT_BRANCH,
      author: { name: config.GIT_COMMIT_NAME, email: config.GIT_COMMIT_EMAIL },
      timeoutMs: config.KINDLER_CLI_TIMEOUT_MS,
      cache: store,
    });
  const branchRender = new BranchRender(
    store,
    overrides.heads?.(store) ?? GitHubHeadSource.keptOnly(store),
    {
      templatesDir: config.KINDLER_TEMPLATES_DIR,
      baseDomainOf: (env) => urls.sites?.[env.site]?.baseDomain ?? config.BASE_DOMAIN,
      ingressClass: config.KINDLER_INGRESS_CLASS,
    },
  );
  const render = branchRender.render;
  const devopsContext = config.DEVOPS_CONTEXT;
  // One client for the process: its API discovery is fetched once, not on every check.
  let devopsClient: Promise<KubeClient> | null = null;
  const devops = devopsContext
    ? () =>
        (devopsClient ??= KubeClient.fromDefault(
          devopsContext,
          config.DEVOPS_KUBECONFIG ?? config.KUBECONFIG,
        ).catch((error) => {
          devopsClient = null; // a kubeconfig fixed meanwhile is read again
          throw error;
        }))
    : null;
  const rows = () => store.listEnvironments();
  // How Argo CD reaches the branches: the built-in Git service, ARGOCD_REPO_URL, or the store's.
  const repository = async (): Promise<RepositoryAccess> => {
    if (!config.ARGOCD_REPO_URL && gitPassword)
      return gitServiceAccess(gitServiceBase(config), gitPassword);
    if (!config.ARGOCD_REPO_URL) return branches.access();
    const { url, username, password } = splitCredentials(config.ARGOCD_REPO_URL);
    const user = config.GIT_USERNAME ?? username;
    const pass = config.GIT_PASSWORD ?? password;
    return {
      url,
      credentials: { ...(user ? { username: user } : {}), ...(pass ? { password: pass } : {}) },
    };
  };
  const argoStep = (client: (() => Promise<KubeClient>) | null) =>
    new ArgoCdStep(client, kubeconfigFor, rows, {
      namespace: config.ARGOCD_NAMESPACE,
      appSetName: config.ARGOCD_APPSET_NAME,
      ingressClass: config.KINDLER_INGRESS_CLASS,
      repository,
      clusterHost: config.ARGOCD_CLUSTER_HOST,
    });
  const handlers: Record<SystemStep, StepHandler> = {
    branch: new BranchStep(branches, render, config.GIT_DEFAULT_BRANCH, async (name, deployed) => {
      const env = await store.updateEnvironment(name, { deployed });
      // A preview's new head is a version, asked by whoever asked the operation deploying it.
      const op = await store.activeOperation(name);
      if (op) await store.versions.record(name, configOf(env), versionBy(op.trigger, op.id));
    }),
    cluster: new ClusterStep(fleet, new KindIngress(kubeconfigFor, config.KIND_INGRESS_IMAGE)),
    portainer: new PortainerStep(portainers, kubeconfigFor, config.PORTAINER_AGENT_IMAGE),
    argocd: argoStep(devops),
    haproxy: new HaproxyStep(gateways, () => store.listRecords()),
  };
  // Derived data, off the operations' path: at most one rewrite a second, the last one at close.
  const snapshot = SnapshotWriter.of(
    store,
    config.csvPath,
    (error) =>
      logFn(log)('warn', 'refreshing the CSV snapshot failed', { error: messageOf(error) }),
    overrides.snapshotFirstAfterMs,
  );
  const probe = new ReadinessProbe({
    timeoutS: config.KINDLER_READY_TIMEOUT,
    intervalMs: 2_000,
    baseDomain: config.BASE_DOMAIN,
    gateway: config.HAPROXY_CONFIG
      ? { host: config.HAPROXY_HOST, port: config.HAPROXY_HTTP_PORT }
      : null,
    get sites() {
      return readySites(fleet.sites);
    },
    clusterHost: config.HAPROXY_BACKEND_HOST,
    argo: devops ? { devops, namespace: config.ARGOCD_NAMESPACE } : null,
  });
  const health = new HealthObserver({
    argo: devops ? { devops, namespace: config.ARGOCD_NAMESPACE } : null,
    portainers,
    probe,
  });
  const engine = new Engine({
    store,
    handlers,
    ready: (env, ctx) => probe.wait(env, ctx),
    redactor,
    leaseMs: config.KINDLER_LEASE_MS,
    afterChange: async (name) => snapshot.request(name),
    log: logFn(log),
    pullRequestPrefix: config.KINDLER_PR_PREFIX,
    preflight: (provider) => missingCommands(fleet.first()[provider]),
    place: async (wanted, within) =>
      siteStates(fleet, await within.usageBySite(siteDefaults(fleet.sites)), wanted),
    get sites() {
      return fleet.sites;
    },
    ...(overrides.ownerAlive ? { ownerAlive: overrides.ownerAlive } : {}),
    retryDelaysMs: overrides.retryDelaysMs ?? config.KINDLER_RETRY_DELAYS_MS,
  });
  return {
    config,
    log,
    urls,
    get sites() {
      return fleet.sites;
    },
    useSites: (known) => live.use(known),
    sitesDiffer: (known) => live.differs(known),
    sitesProblem: (sites) => LiveSites.problem(config, sites),
    store,
    engine,
    redactor,
    branches,
    argoStep,
    gitService:
      localRepo && gitPassword
        ? { projectRoot: path.dirname(localRepo), password: gitPassword }
        : null,
    handlers,
    health,
    kubeconfigFor,
    render,
    expectedTrees: (envs) => branchRender.trees(envs),
    refreshSnapshot: () => snapshot.now(),
    close: async () => {
      await snapshot.flush();
      await store.close();
    },
  };
}
