// Recording what is asked, before anything runs: a create's row and its operation, a repair, the
// newest head of a pull request, a stop or start. Each refuses (Failure) and changes nothing when
// the request cannot be taken. The engine (engine.ts) calls these; they are its, apart to read.
import {
  LOCAL_SITE,
  SiteFull,
  hasRoom,
  localSite,
  sizeOn,
  noRoom,
  command,
  configOf,
  versionBy,
  ACTIVE_STATUSES,
  Failure,
  stepsFor,
  checkDerivedNames,
  labelsProblem,
  alreadyExists,
  busyFailure,
  type Operation,
  type Site,
  notFound,
} from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { OperationRequest } from './engine-api.js';
import { deleteCommand, retryCommand } from './hints.js';
import type { SystemStep } from './step.js';
import type { EngineDeps } from './engine-deps.js';

const NO_HELD = { cpus: 0, memoryMib: 0 };

/** What recording needs of the engine. */
export interface RequestContext {
  store: Store;
  deps: EngineDeps;
  now: () => Date;
  refreshDerived(name?: string): Promise<void>;
  isOrphan(op: Operation): boolean;
}

export async function requestCreate(
  e: RequestContext,
  request: Extract<OperationRequest, { kind: 'create' }>,
): Promise<Operation> {
  // Every surface checks these first; the engine keeps them true for any caller.
  const tooLong = checkDerivedNames(request.name, request.provider);
  if (tooLong) throw new Failure('invalid_input', tooLong);
  const badLabels = request.options?.labels ? labelsProblem(request.options.labels) : null;
  if (badLabels) throw new Failure('invalid_input', `${badLabels}; nothing was recorded`);
  const prefix = e.deps.pullRequestPrefix ?? 'pr-';
  // Taken by hand, pr-99 would be refused to pull request #99's preview later.
  if (request.trigger.source !== 'pull_request' && request.name.startsWith(prefix))
    throw new Failure(
      'invalid_input',
      `"${request.name}" starts with ${prefix}, which belongs to pull requests: label a pull ` +
        `request env:k3d or env:kind for its ${prefix}<number> environment, or choose another ` +
        `name; nothing was done`,
    );
  // What the cluster step will need is looked for before anything is recorded.
  const missing = e.deps.preflight?.(request.provider);
  if (missing) throw new Failure('not_configured', missing);
  const existing = await e.store.getEnvironment(request.name);
  if (existing) {
    const last = await e.store.latestOperation(request.name);
    throw alreadyExists(
      existing,
      existing.status === 'failed' ||
        (last !== null && !ACTIVE_STATUSES.includes(last.status) && last.status !== 'success'),
    );
  }
  const options = request.options ?? {};
  const wanted = {
    ...(options.site ? { site: options.site } : {}),
    ...(options.where ? { where: options.where } : {}),
    nodes: (options.servers ?? 1) + (options.agents ?? 0),
    // The size asked for, read as the row's is (sizeOn): absent fields take the site's default.
    size: options,
  };
  const states = e.deps.place
    ? await e.deps.place(wanted, e.store)
    : [{ site: localSite(), environments: 0, held: NO_HELD, room: null, down: null, short: null }];
  const open = states.filter(hasRoom);
  if (open.length === 0) throw noRoom(request.name, states);
  let op: Operation | null = null;
  for (const state of open) {
    try {
      op = await recordCreate(e, request, state.site);
      break;
    } catch (error) {
      // Filled meanwhile (checked again under the allocation lock): the next one.
      if (!(error instanceof SiteFull)) throw error;
      Object.assign(state, {
        environments: error.usage.environments,
        held: error.usage,
        short: error.short,
      });
    }
  }
  if (!op) throw noRoom(request.name, states);
  // The new row is in the CSV snapshot at once: a degraded `list` right after still shows it.
  await e.refreshDerived(op.envName);
  return (await e.store.getOperation(op.id)) ?? op;
}

/** The row on `site`, its operation (record done) and version 1, in one transaction. */
function recordCreate(
  e: RequestContext,
  request: Extract<OperationRequest, { kind: 'create' }>,
  site: Site,
): Promise<Operation> {
  const options = request.options ?? {};
  const ttl = options.ttlMs ?? null;
  // The row, its operation (record done) and version 1 commit together, or none of them does.
  return e.store.atomically(async (store) => {
    const env = await store.insertEnvironment({
      name: request.name,
      provider: request.provider,
      ...(options.registerPortainer !== undefined
        ? { registerPortainer: options.registerPortainer }
        : {}),
      ...(options.haproxyRoute !== undefined ? { haproxyRoute: options.haproxyRoute } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.servers !== undefined ? { servers: options.servers } : {}),
      ...(options.agents !== undefined ? { agents: options.agents } : {}),
      ...sizeOn(site, options),
      ...(options.source ? { source: options.source } : {}),
      requestedBy: request.trigger.actor,
      site: site.name,
      siteLimits: site,
      sourceUrl: request.trigger.url ?? request.trigger.source,
      expiresAt: ttl === null ? null : new Date(e.now().getTime() + ttl),
    });
    const made = await store.createOperation({
      envName: env.name,
      kind: 'create',
      trigger: request.trigger,
    });
    await recordDone(
      store,
      made.id,
      e.now(),
      `row recorded: http ${env.httpPort}, https ${env.httpsPort}, ` +
        `pf ${env.pfPort}${env.subnet ? `, subnet ${env.subnet}` : ''}` +
        (site.name === LOCAL_SITE ? '' : `, site ${site.name}`),
    );
    // A preview's first version is the head it is created to deploy.
    const config = { ...configOf(env), deployedSha: options.source?.sha ?? null };
    await store.versions.record(env.name, config, versionBy(request.trigger, made.id));
    return made;
  });
}

/** The `record` step of an operation recorded with its row: done at once, saying what it wrote. */
export function recordDone(store: Store, id: number, at: Date, detail: string): Promise<void> {
  return store.saveStep(id, {
    step: 'record',
    status: 'done',
    startedAt: at,
    completedAt: at,
    error: null,
    detail,
  });
}

export async function requestRepair(
  e: RequestContext,
  request: Extract<OperationRequest, { kind: 'sync' | 'prune' }>,
): Promise<Operation> {
  const { name, kind } = request;
  const env = await e.store.getEnvironment(name);
  if (kind === 'prune' && env)
    throw new Failure(
      'invalid_input',
      `"${name}" has a database row; prune removes only what no row claims`,
      deleteCommand(name),
    );
  if (kind === 'sync' && !env)
    throw new Failure(
      'not_found',
      `environment "${name}" is not in the database; sync recreates only what the database holds`,
      command('list'),
    );
  if (env?.status === 'failed')
    throw new Failure(
      'invalid_input',
      `"${name}" is not synced: its last operation failed; resume it instead`,
      retryCommand(name),
    );
  if (env?.status === 'deleting' || env?.status === 'delete_failed')
    throw new Failure(
      'invalid_input',
      `"${name}" is not synced: it is being deleted (status ${env?.status}); finish the delete`,
      deleteCommand(name),
    );
  // One operation per environment: the store refuses a second one as busy. What the check
  // found in order is recorded as such: the operation runs only what it must.
  return e.store.createOperation({
    envName: name,
    kind,
    trigger: request.trigger,
    skip: stepsFor(kind).filter((s) => s !== 'ready' && !request.steps.includes(s as SystemStep)),
  });
}

export async function requestDeploy(
  e: RequestContext,
  request: Extract<OperationRequest, { kind: 'deploy' }>,
): Promise<Operation> {
  const { name, source, trigger } = request;
  const env = await e.store.getEnvironment(name);
  if (!env) throw notFound(name);
  if (!/^[0-9a-f]{40}$/.test(source.sha))
    throw new Failure('invalid_input', `"${source.sha}" is not a commit id (40 hex digits)`);
  if (env.status === 'deleting' || env.status === 'delete_failed')
    throw new Failure(
      'invalid_input',
      `"${name}" is being deleted (status ${env.status}); nothing is deployed to it`,
      deleteCommand(name),
    );
  // The newest head is what the environment wants from now on, whatever runs now.
  await e.store.updateEnvironment(name, { source });
  const active = await e.store.activeOperation(name);
  // A deploy still queued is superseded; one a worker took meanwhile, or any other operation,
  // runs on, and the newest head is deployed when it ends (followUp).
  const superseded =
    active?.kind === 'deploy' &&
    active.status === 'queued' &&
    (await e.store.cancelQueued(active.id, `superseded by ${source.sha.slice(0, 7)}`));
  if (superseded) e.deps.log?.('info', 'deploy superseded', { operation: active.id, env: name });
  else if (active) return (await e.store.getOperation(active.id)) ?? active;
  if (env.status === 'failed')
    throw new Failure(
      'invalid_input',
      `"${name}" did not finish its last operation; ` +
        `${source.sha.slice(0, 7)} is deployed once it has`,
      retryCommand(name),
    );
  return e.store.createOperation({ envName: name, kind: 'deploy', trigger });
}

export async function requestPower(
  e: RequestContext,
  request: Extract<OperationRequest, { kind: 'stop' | 'start' }>,
): Promise<Operation> {
  const { kind, name, trigger } = request;
  const env = await e.store.getEnvironment(name);
  if (!env) throw notFound(name);
  const active = await e.store.activeOperation(name);
  if (active) throw busyFailure(active);
  if (kind === 'stop' && env.status === 'stopped')
    throw new Failure('nothing_to_do', `"${name}" is stopped already`, command('start', name));
  // A ready environment may be started too: its cluster may have been stopped outside kindler.
  if (env.status !== 'ready' && env.status !== 'stopped')
    throw new Failure(
      'invalid_input',
      `"${name}" cannot be ${kind === 'stop' ? 'stopped' : 'started'} ` +
        `while its status is ${env.status}; ` +
        (env.status === 'failed' ? 'resume its last operation first' : 'let its operation finish'),
      env.status === 'failed' ? retryCommand(name) : command('status', name),
    );
  return e.store.createOperation({ envName: name, kind, trigger });
}
