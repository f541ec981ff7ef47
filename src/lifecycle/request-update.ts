// Recording an update (or the rollback it stands for): the row takes the new configuration, the
// operation its change and the steps it does not need as skipped, and the configuration becomes a
// version — all in one transaction, before anything runs. A recreation of the cluster is refused
// until it is confirmed; a refused update changes nothing.
import {
  Failure,
  UPDATE_STEPS,
  busyFailure,
  checkDerivedNames,
  command,
  configOf,
  describeChanges,
  formatMemory,
  heldBy,
  sizeOn,
  labelsFromText,
  notFound,
  patched,
  planUpdate,
  recreationReason,
  versionBy,
  type EnvironmentConfig,
  type NextCommand,
  type Operation,
  type Site,
  type UpdateStep,
} from '../domain/index.js';
import { formatDuration } from '../commands/duration.js';
import type { EnvironmentPatch } from '../store/store.js';
import { checkGrowth } from '../store/insert-environment.js';
import type { OperationRequest } from './engine-api.js';
import { retryCommand } from './hints.js';
import { recordDone, type RequestContext } from './requests.js';

type UpdateRequest = Extract<OperationRequest, { kind: 'update' }>;

export async function requestUpdate(e: RequestContext, request: UpdateRequest): Promise<Operation> {
  const { name, trigger } = request;
  const env = await e.store.getEnvironment(name);
  if (!env) throw notFound(name);
  const active = await e.store.activeOperation(name);
  if (active) throw busyFailure(active);
  const from = configOf(env);
  const to = 'to' in request ? request.to : patched(from, request.patch, e.now());
  const plan = planUpdate(from, to);
  if (plan.changes.length === 0)
    throw new Failure(
      'nothing_to_do',
      `"${name}" has that configuration already; nothing was changed`,
      command('history', name),
    );
  const touches = Object.keys(plan.actions).length > 0;
  if (env.status !== 'ready' && !(env.status === 'stopped' && !touches))
    throw new Failure(
      'invalid_input',
      `"${name}" cannot be updated while its status is ${env.status}` +
        (env.status === 'stopped'
          ? ': start it first (only its expiry changes while it is stopped)'
          : env.status === 'failed'
            ? '; resume its last operation first'
            : '; let its operation finish'),
      env.status === 'stopped'
        ? command('start', name)
        : env.status === 'failed'
          ? retryCommand(name)
          : command('status', name),
    );
  if (to.deployedSha !== from.deployedSha && !env.source)
    throw new Failure(
      'invalid_input',
      `"${name}" is not a pull request's environment: it has no head to deploy`,
    );
  if (to.provider !== from.provider) {
    const tooLong = checkDerivedNames(name, to.provider);
    if (tooLong) throw new Failure('invalid_input', tooLong);
    const missing = e.deps.preflight?.(to.provider);
    if (missing) throw new Failure('not_configured', missing);
  }
  if (plan.recreates && !request.confirm)
    throw new Failure(
      'invalid_input',
      `changing ${recreationReason(from, to)} deletes "${name}"'s cluster and creates it again: ` +
        `what runs in it and its volumes are lost (the branch, the route and the registrations ` +
        `are made again). Nothing was changed; confirm to go ahead`,
      confirmCommand(request),
    );
  // A preview's earlier head (a rollback) is the one the row wants from now on.
  const head = to.deployedSha !== from.deployedSha ? to.deployedSha : null;
  const site = e.deps.sites?.find((s) => s.name === env.site);
  const op = await e.store.atomically(async (store, tx) => {
    // What it grows to must fit its site's budgets (checked under the allocation lock).
    if (site && grows(site, from, to))
      await checkGrowth(tx, site, name, to.servers + to.agents, sizeOn(site, to));
    const patch = rowPatch(from, to, env.source, head, trigger.actor);
    const updated = await store.updateEnvironment(name, patch);
    const made = await store.createOperation({
      envName: name,
      kind: 'update',
      trigger: head ? { ...trigger, headSha: head } : trigger,
      change: { from, to, ...('rollbackTo' in request ? { rollbackTo: request.rollbackTo } : {}) },
      skip: UPDATE_STEPS.filter((s) => s !== 'record' && !plan.actions[s as UpdateStep]),
      skipDetail: 'not changed by this update',
    });
    const detail = `row updated: ${describeChanges(plan.changes, false)}`;
    await recordDone(store, made.id, e.now(), detail);
    await store.versions.record(name, configOf(updated), versionBy(trigger, made.id));
    return made;
  });
  await e.refreshDerived(name);
  return (await e.store.getOperation(op.id)) ?? op;
}

/** Whether `to` holds more of `site`'s budgets than `from` (a node without a size: its default). */
function grows(site: Site, from: EnvironmentConfig, to: EnvironmentConfig): boolean {
  if (site.maxCpus === null && site.maxMemoryMib === null) return false;
  const held = (c: EnvironmentConfig) => heldBy(c.servers + c.agents, sizeOn(site, c));
  const [before, after] = [held(from), held(to)];
  return after.cpus > before.cpus || after.memoryMib > before.memoryMib;
}

/** The command asked again, confirmed. */
function confirmCommand(request: UpdateRequest): NextCommand {
  if ('to' in request)
    return command('rollback', request.name, String(request.rollbackTo), '--confirm');
  const p = request.patch;
  const flag = (on: boolean | undefined, name: string) =>
    on === undefined ? [] : [on ? `--${name}` : `--no-${name}`];
  return command(
    'update',
    request.name,
    ...(p.ttlMs === undefined
      ? []
      : ['--ttl', p.ttlMs === null ? 'never' : formatDuration(p.ttlMs)]),
    ...flag(p.registerPortainer, 'portainer'),
    ...flag(p.haproxyRoute, 'haproxy'),
    ...(p.provider ? ['--provider', p.provider] : []),
    ...(p.servers === undefined ? [] : ['--servers', String(p.servers)]),
    ...(p.agents === undefined ? [] : ['--agents', String(p.agents)]),
    ...(p.nodeCpus == null ? [] : ['--cpus', String(p.nodeCpus)]),
    ...(p.nodeMemoryMib == null ? [] : ['--memory', formatMemory(p.nodeMemoryMib)]),
    ...Object.entries(p.labels ?? {}).flatMap(([k, v]) => [
      '--label',
      v === null ? `${k}-` : `${k}=${v}`,
    ]),
    '--confirm',
  );
}

/** The row's columns for configuration `to`; a head to deploy becomes the one the row wants. */
function rowPatch(
  from: EnvironmentConfig,
  to: EnvironmentConfig,
  source: { repo: string } | null,
  head: string | null,
  actor: string | null,
): EnvironmentPatch {
  return {
    ...(to.provider !== from.provider ? { provider: to.provider } : {}),
    registerPortainer: to.registerPortainer,
    haproxyRoute: to.haproxyRoute,
    servers: to.servers,
    agents: to.agents,
    nodeCpus: to.nodeCpus,
    nodeMemoryMib: to.nodeMemoryMib,
    expiresAt: to.expiresAt === null ? null : new Date(to.expiresAt),
    pinned: to.pinned,
    labels: labelsFromText(to.labels),
    ...(head && source ? { source: { repo: source.repo, sha: head, by: actor } } : {}),
  };
}
