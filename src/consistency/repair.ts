// Repairs from a consistency report. `sync` records one sync operation per environment that lacks
// what its row implies — the engine runs it like any other operation (queued, leased, resumable,
// with actor and trigger) through the same idempotent step handlers — and deletes nothing. `prune` removes what
// no row claims — branches archived first as archive/<name>-<YYYYmmdd-HHMMSS> — and without
// `confirm` only returns its plan. Neither touches an environment with an operation under way, and
// prune looks the row up again right before each removal, so a create that started meanwhile wins.
import {
  Failure,
  MANAGEMENT_CLUSTER,
  NOTHING_TO_REPAIR,
  SYNC_STEPS,
  classify,
  envName,
  messageOf,
  type Operation,
  type ProviderName,
  type StepState,
  type Trigger,
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
  outcome: 'planned' | 'queued' | 'done' | 'failed' | 'skipped';
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

export interface SyncPlan {
  /** What was queued (one sync operation per environment) and what was not, with why. */
  actions: RepairAction[];
  operations: Operation[];
  /** The report the plan was made from. */
  report: ConsistencyReport;
}

/**
 * Records a sync operation for every environment (or those named) whose systems lack what its row
 * implies: the steps to ensure again are the columns found missing or mismatched (a recreated
 * cluster brings its Portainer agent and Argo CD token with it). A cluster that exists with other
 * settings is not recreated — sync deletes nothing. The engine refuses a busy, failed or deleting
 * environment; that refusal becomes a skipped action. At most `limit` operations are recorded.
 */
export async function requestSyncs(
  rt: Runtime,
  options: { names?: string[]; trigger: Trigger; limit?: number },
): Promise<SyncPlan> {
  const report = await checkConsistency(rt);
  const wanted = new Set(options.names ?? []);
  for (const name of wanted)
    if (!report.matrix.some((r) => r.name === name && r.inDatabase))
      throw new Failure(
        'not_found',
        `environment "${name}" is not in the database; sync recreates only what the database holds`,
        'kindler list',
      );
  const actions: RepairAction[] = [];
  const operations: Operation[] = [];
  for (const row of report.matrix) {
    if (!row.inDatabase || (wanted.size && !wanted.has(row.name))) continue;
    const todo = COLUMNS.filter((c) => row.cells[c] === 'missing' || row.cells[c] === 'mismatch');
    if (todo.length === 0) continue;
    const clusterDrift = report.discrepancies.find(
      (d) =>
        d.name === row.name && (d.system === 'k3d' || d.system === 'kind') && d.kind === 'mismatch',
    );
    if (clusterDrift)
      actions.push({
        name: row.name,
        system: clusterDrift.system,
        action: 'recreate cluster',
        outcome: 'skipped',
        detail: `${clusterDrift.detail}; sync deletes nothing: run \`${clusterDrift.fix}\``,
      });
    const steps = new Set(
      todo.filter((c) => !(c === 'cluster' && clusterDrift)).map((c) => STEP_OF[c]),
    );
    if (steps.has('cluster')) for (const s of ['portainer', 'argocd'] as const) steps.add(s);
    if (steps.size === 0) continue;
    const ordered = SYNC_STEPS.filter((s): s is SystemStep => steps.has(s as SystemStep));
    const action = `ensure ${ordered.join(', ')}`;
    if (options.limit !== undefined && operations.length >= options.limit) {
      actions.push({
        name: row.name,
        system: 'all',
        action,
        outcome: 'skipped',
        detail: `not queued: one request syncs at most ${options.limit} environments; ask again once these finish`,
      });
      continue;
    }
    try {
      const op = await rt.engine.request({
        kind: 'sync',
        name: envName(row.name),
        steps: ordered,
        trigger: options.trigger,
      });
      operations.push(op);
      actions.push({
        name: row.name,
        system: 'all',
        action,
        outcome: 'queued',
        detail: `sync #${op.id}`,
      });
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      const fix = (error as Failure).fix;
      actions.push({
        name: row.name,
        system: 'all',
        action,
        outcome: 'skipped',
        detail: `${messageOf(error)}${fix ? ` (\`${fix}\`)` : ''}`,
      });
    }
  }
  return { actions, operations, report };
}

const OUTCOME: Record<StepState['status'], RepairAction['outcome']> = {
  done: 'done',
  warning: 'done',
  failed: 'failed',
  skipped: 'skipped',
  pending: 'queued',
  running: 'queued',
};

/** The actions a sync operation took: the steps it had to run (ready only when it failed). */
export function syncOutcome(op: Operation): RepairAction[] {
  return op.steps
    .filter((s) => s.detail !== NOTHING_TO_REPAIR && (s.step !== 'ready' || s.status === 'failed'))
    .map((s) => ({
      name: op.envName,
      system: s.step,
      action: `ensure ${s.step}`,
      outcome: OUTCOME[s.status],
      ...(s.error || s.detail ? { detail: (s.error ?? s.detail) as string } : {}),
    }));
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
