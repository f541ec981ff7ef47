// Repairs from a consistency report. `sync` makes what the database implies exist again (through
// the same idempotent step handlers the lifecycle uses) and deletes nothing. `prune` removes what
// no row claims — branches archived first as archive/<name>-<YYYYmmdd-HHMMSS> — and without
// `confirm` only returns its plan. Neither touches an environment with an operation under way, and
// prune looks the row up again right before each removal, so a create that started meanwhile wins.
import {
  CREATE_STEPS,
  Failure,
  MANAGEMENT_CLUSTER,
  envName,
  messageOf,
  type Environment,
  type ProviderName,
} from '../domain/index.js';
import type { SystemStep } from '../lifecycle/step.js';
import { argoClusterSecret } from '../registrars/argocd-step.js';
import type { Runtime } from '../runtime.js';
import { checkConsistency } from './check.js';
import {
  COLUMNS,
  deleteClusterCommand,
  type Column,
  type ConsistencyReport,
  type Discrepancy,
} from './compare.js';

export interface RepairAction {
  name: string;
  system: string;
  action: string;
  outcome: 'planned' | 'done' | 'failed' | 'skipped';
  detail?: string;
}

export interface RepairResult {
  actions: RepairAction[];
  /** The report after the repair (sync, confirmed prune), or the one the plan was made from. */
  report: ConsistencyReport;
}

const STEP_OF: Record<Column, SystemStep> = {
  git: 'branch',
  cluster: 'cluster',
  portainer: 'portainer',
  argocd: 'argocd',
  haproxy: 'haproxy',
};

/** Recreates branches, clusters, registrations and routes the database implies; deletes nothing. */
export async function sync(
  rt: Runtime,
  options: { names?: string[]; log?: (line: string) => void } = {},
): Promise<RepairResult> {
  const before = await checkConsistency(rt);
  const actions: RepairAction[] = [];
  const wanted = new Set(options.names ?? []);
  for (const name of wanted) {
    if (!before.matrix.some((r) => r.name === name && r.inDatabase))
      throw new Failure(
        'not_found',
        `environment "${name}" is not in the database; sync recreates only what the database holds`,
        'kindler list',
      );
  }
  for (const row of before.matrix) {
    if (!row.inDatabase || (wanted.size && !wanted.has(row.name))) continue;
    const todo = COLUMNS.filter((c) => row.cells[c] === 'missing' || row.cells[c] === 'mismatch');
    if (todo.length === 0) continue;
    const env = await rt.store.getEnvironment(row.name);
    if (!env) continue;
    const skip = (action: string, detail: string) =>
      actions.push({ name: env.name, system: 'all', action, outcome: 'skipped', detail });
    if (row.cells.git === 'busy' || (await rt.store.activeOperation(env.name))) {
      skip('sync', 'an operation is under way');
      continue;
    }
    if (env.status !== 'ready' && env.status !== 'creating') {
      skip(
        'sync',
        env.status === 'failed'
          ? `its last operation failed; resume it with \`kindler retry ${env.name}\``
          : `status ${env.status}; finish it with \`kindler delete ${env.name}\``,
      );
      continue;
    }
    const discrepancies = before.discrepancies.filter((d) => d.name === env.name);
    await syncOne(rt, env, todo, discrepancies, actions, options.log);
  }
  return {
    actions,
    report: actions.some((a) => a.outcome === 'done' || a.outcome === 'failed')
      ? await checkConsistency(rt)
      : before,
  };
}

async function syncOne(
  rt: Runtime,
  env: Environment,
  todo: Column[],
  discrepancies: Discrepancy[],
  actions: RepairAction[],
  log?: (line: string) => void,
): Promise<void> {
  const clusterMismatch =
    todo.includes('cluster') &&
    discrepancies.some((d) => (d.system === 'k3d' || d.system === 'kind') && d.kind === 'mismatch');
  const steps = new Set(
    todo.filter((c) => !(c === 'cluster' && clusterMismatch)).map((c) => STEP_OF[c]),
  );
  if (clusterMismatch) {
    const d = discrepancies.find((x) => x.system === 'k3d' || x.system === 'kind') as Discrepancy;
    actions.push({
      name: env.name,
      system: d.system,
      action: 'recreate cluster',
      outcome: 'skipped',
      detail: `${d.detail}; sync deletes nothing: run \`${d.fix}\``,
    });
  }
  // A recreated cluster is new: its Portainer agent and Argo CD token must be put back as well.
  if (steps.has('cluster')) for (const s of ['portainer', 'argocd'] as const) steps.add(s);
  const controller = new AbortController();
  for (const step of CREATE_STEPS) {
    if (!steps.has(step as SystemStep)) continue;
    const handler = rt.handlers[step as SystemStep];
    const why = handler.skipReason(env);
    if (why) continue;
    try {
      const detail = await handler.ensure({
        env,
        signal: controller.signal,
        log: (line) => log?.(`${env.name} ${step}: ${rt.redactor.redact(line)}`),
      });
      actions.push({
        name: env.name,
        system: step,
        action: `ensure ${step}`,
        outcome: 'done',
        detail: rt.redactor.redact(detail),
      });
    } catch (error) {
      actions.push({
        name: env.name,
        system: step,
        action: `ensure ${step}`,
        outcome: 'failed',
        detail: rt.redactor.redact(messageOf(error)),
      });
      return; // later steps depend on this one
    }
  }
}

/** Orphans of the report (or of those names): previewed, or removed with `confirm`. */
export async function prune(
  rt: Runtime,
  options: { confirm: boolean; names?: string[]; now?: Date } = { confirm: false },
): Promise<RepairResult> {
  const before = await checkConsistency(rt);
  const wanted = new Set(options.names ?? []);
  const orphans = before.discrepancies.filter(
    (d) => d.kind === 'orphan' && (wanted.size === 0 || wanted.has(d.name)),
  );
  for (const name of wanted) {
    if (!orphans.some((d) => d.name === name))
      throw new Failure(
        'not_found',
        `nothing named "${name}" is orphaned; prune removes only what has no database row`,
        'kindler check',
      );
  }
  const stamp = archiveStamp(options.now ?? new Date());
  // Clusters first (registrations point at them), the branch last — as a delete does.
  const order = ['k3d', 'kind', 'portainer', 'argocd', 'haproxy', 'git'];
  orphans.sort(
    (a, b) => a.name.localeCompare(b.name) || order.indexOf(a.system) - order.indexOf(b.system),
  );
  const actions: RepairAction[] = orphans.map((d) => ({
    name: d.name,
    system: d.system,
    action: describe(d, stamp),
    outcome: 'planned',
  }));
  if (!options.confirm) return { actions, report: before };

  const haproxyOrphans = orphans.some((d) => d.system === 'haproxy');
  for (const [i, d] of orphans.entries()) {
    const action = actions[i] as RepairAction;
    if (d.name === MANAGEMENT_CLUSTER || (await rt.store.getEnvironment(d.name))) {
      Object.assign(action, { outcome: 'skipped', detail: 'a database row appeared meanwhile' });
      continue;
    }
    try {
      action.detail = rt.redactor.redact(await removeOrphan(rt, d, stamp, haproxyOrphans));
      action.outcome = 'done';
    } catch (error) {
      Object.assign(action, { outcome: 'failed', detail: rt.redactor.redact(messageOf(error)) });
    }
  }
  return { actions, report: await checkConsistency(rt) };
}

function describe(d: Discrepancy, stamp: string): string {
  switch (d.system) {
    case 'git':
      return `archive branch "${d.name}" as "archive/${d.name}-${stamp}", then delete it`;
    case 'k3d':
    case 'kind':
      return `delete ${d.system} cluster "${d.name}" (${deleteClusterCommand(d.system, d.name)})`;
    case 'portainer':
      return `delete Portainer environment "${d.name}"`;
    case 'argocd':
      return `delete Argo CD cluster secret of "${d.name}"`;
    case 'haproxy':
      return `remove HAProxy route for "${d.name}"`;
  }
}

async function removeOrphan(
  rt: Runtime,
  d: Discrepancy,
  stamp: string,
  haproxy: boolean,
): Promise<string> {
  switch (d.system) {
    case 'git':
      await rt.branches.archive(d.name, `archive/${d.name}-${stamp}`);
      return `archived as archive/${d.name}-${stamp}`;
    case 'k3d':
    case 'kind':
      return `${await rt.providers[d.system as ProviderName].delete(envName(d.name))}`;
    case 'portainer': {
      const endpoint = (await rt.portainer?.listEndpoints())?.find((e) => e.Name === d.name);
      return endpoint && rt.portainer
        ? `environment #${endpoint.Id} ${await rt.portainer.deleteEndpoint(endpoint.Id)}`
        : 'already absent';
    }
    case 'argocd': {
      if (!rt.devops) throw new Error('DEVOPS_CONTEXT is not set');
      return `secret cluster-${d.name} ${await rt.devops().remove(argoClusterSecret(rt.config.ARGOCD_NAMESPACE, d.name))}`;
    }
    case 'haproxy': {
      if (!rt.gateway || !haproxy) throw new Error('HAPROXY_CONFIG is not set');
      // The gateway renders from the rows, so one sync drops every orphaned route.
      return (await rt.gateway.sync(await rt.store.listEnvironments())) === 'changed'
        ? 'config rewritten, validated and reloaded'
        : 'already absent';
    }
  }
}

/** archive/<name>-<YYYYmmdd-HHMMSS> (UTC), as upstream's sync_git_from_db.sh names them. */
export function archiveStamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}
