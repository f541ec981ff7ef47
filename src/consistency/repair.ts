// Repairs from a consistency report, each an operation of the engine (queued, leased, resumable,
// with actor and trigger; the steps' own handlers do the work). `sync` records one sync operation
// per environment that lacks what its row implies, and deletes nothing. `prune` records one prune
// operation per name that no row claims but some system still holds — branches archived first as
// archive/<name>-<YYYYmmdd-HHMMSS> — and its preview changes nothing. Neither touches a name with
// an operation under way, and a prune looks the row up again before each removal, so a create that
// started meanwhile wins.
import {
  byText,
  command,
  Failure,
  MANAGEMENT_CLUSTER,
  archiveBranchName,
  NOTHING_TO_DO,
  classify,
  envName,
  messageOf,
  type NextCommand,
  type Operation,
  type StepState,
  type Trigger,
} from '../domain/index.js';
import type { EngineApi, OperationRequest } from '../lifecycle/engine-api.js';
import { checkConsistency, type CheckDeps } from './check.js';
import type { ConsistencyReport, Discrepancy } from './compare.js';
import { PRUNE_ORDER, PRUNE_STEP, describe } from './prune-plan.js';
import { planSyncs } from './sync-plan.js';
export { planSyncs, type SyncEntry } from './sync-plan.js';

/** What a repair reads and records: the consistency check and the engine. */
export type RepairDeps = CheckDeps & { engine: Pick<EngineApi, 'request'> };

export interface RepairAction {
  name: string;
  system: string;
  action: string;
  outcome: 'planned' | 'queued' | 'done' | 'failed' | 'skipped';
  detail?: string;
  /** What to do about it, when kindler cannot (each surface spells it). */
  fix?: NextCommand;
}

export interface RepairResult {
  actions: RepairAction[];
  /** The report after the repair (sync, confirmed prune), or the one the plan was made from. */
  report: ConsistencyReport;
}

export interface RepairPlan {
  /** What was queued (one operation per environment or name) and what was not, with why. */
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
  rt: RepairDeps,
  options: {
    names?: string[];
    trigger: Trigger;
    limit?: number;
    /** A report just made (the reconcile loop's); a fresh check otherwise. */
    report?: ConsistencyReport;
  },
): Promise<RepairPlan> {
  const report = options.report ?? (await checkConsistency(rt));
  const wanted = new Set(options.names ?? []);
  for (const name of wanted)
    if (!report.matrix.some((r) => r.name === name && r.inDatabase))
      throw new Failure(
        'not_found',
        `environment "${name}" is not in the database; sync recreates only what the database holds`,
        command('list'),
      );
  const actions: RepairAction[] = [];
  const operations: Operation[] = [];
  for (const entry of planSyncs(report, wanted)) {
    if (entry.kept)
      actions.push({
        name: entry.name,
        system: entry.kept.system,
        action: 'recreate cluster',
        outcome: 'skipped',
        detail: `${entry.kept.detail}; sync deletes nothing`,
        ...(entry.kept.fix ? { fix: entry.kept.fix } : {}),
      });
    if (entry.steps.length === 0) continue;
    const { outcome } = await recordRepair(rt, operations, options.limit, {
      kind: 'sync',
      name: envName(entry.name),
      steps: entry.steps,
      trigger: options.trigger,
    });
    actions.push({
      name: entry.name,
      system: 'all',
      action: `ensure ${entry.steps.join(', ')}`,
      ...outcome,
    });
  }
  return { actions, operations, report };
}

/**
 * Records one repair operation (added to `operations`), within `limit` per request, with the
 * outcome of its action: queued, or skipped with why (the bound, or the engine's refusal and fix).
 */
async function recordRepair(
  rt: RepairDeps,
  operations: Operation[],
  limit: number | undefined,
  request: Extract<OperationRequest, { kind: 'sync' | 'prune' }>,
): Promise<{ op: Operation | null; outcome: Pick<RepairAction, 'outcome' | 'detail' | 'fix'> }> {
  if (limit !== undefined && operations.length >= limit)
    return {
      op: null,
      outcome: {
        outcome: 'skipped',
        detail:
          `not queued: one request queues at most ${limit} ` +
          `${request.kind} operations; ask again once these finish`,
      },
    };
  try {
    const op = await rt.engine.request(request);
    operations.push(op);
    return { op, outcome: { outcome: 'queued', detail: `${op.kind} #${op.id}` } };
  } catch (error) {
    if (classify(error) !== 'failure') throw error;
    const fix = (error as Failure).fix;
    return {
      op: null,
      outcome: { outcome: 'skipped', detail: messageOf(error), ...(fix ? { fix } : {}) },
    };
  }
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
    .filter((s) => s.detail !== NOTHING_TO_DO && (s.step !== 'ready' || s.status === 'failed'))
    .map((s) => ({
      name: op.envName,
      system: s.step,
      action: `ensure ${s.step}`,
      outcome: OUTCOME[s.status],
      ...(s.error || s.detail ? { detail: (s.error ?? s.detail) as string } : {}),
    }));
}

/** The report's orphans (or those of `names`, each of which must be one), in prune's order. */
function orphansOf(
  report: ConsistencyReport,
  names: string[] = [],
  options = { strict: true },
): Discrepancy[] {
  const wanted = new Set(names);
  const orphans = report.discrepancies.filter(
    (d) =>
      d.kind === 'orphan' &&
      d.name !== MANAGEMENT_CLUSTER &&
      (wanted.size === 0 || wanted.has(d.name)),
  );
  for (const name of options.strict ? wanted : [])
    if (!orphans.some((d) => d.name === name))
      throw new Failure(
        'not_found',
        `nothing named "${name}" is orphaned; prune removes only what has no database row`,
        command('check'),
      );
  return orphans.sort(
    (a, b) =>
      byText(a.name, b.name) || PRUNE_ORDER.indexOf(a.system) - PRUNE_ORDER.indexOf(b.system),
  );
}

const planned = (d: Discrepancy, at: Date): RepairAction => ({
  name: d.name,
  system: d.system,
  action: describe(d, archiveBranchName(envName(d.name), at)),
  outcome: 'planned',
});

/** What prune would remove (the orphans of a check, or of those names); nothing is changed. */
export async function previewPrune(
  rt: CheckDeps,
  options: { names?: string[]; now?: Date } = {},
): Promise<RepairResult> {
  const report = await checkConsistency(rt);
  const now = options.now ?? new Date();
  return { actions: orphansOf(report, options.names).map((d) => planned(d, now)), report };
}

/**
 * Records a prune operation per orphaned name (or those named, at most `limit`): its steps are the
 * systems that hold something under the name. The engine refuses a name with a row or with an
 * operation under way; that refusal becomes a skipped action.
 */
export async function requestPrunes(
  rt: RepairDeps,
  options: {
    names?: string[];
    trigger: Trigger;
    limit?: number;
    /** Names that are no longer orphaned are left out, not refused (a preview being confirmed). */
    stillOrphaned?: boolean;
  },
): Promise<RepairPlan> {
  const report = await checkConsistency(rt);
  const orphans = orphansOf(report, options.names, { strict: !options.stillOrphaned });
  const actions: RepairAction[] = [];
  const operations: Operation[] = [];
  for (const name of new Set(orphans.map((d) => d.name))) {
    const mine = orphans.filter((d) => d.name === name);
    const { op, outcome } = await recordRepair(rt, operations, options.limit, {
      kind: 'prune',
      name: envName(name),
      steps: [...new Set(mine.map((d) => PRUNE_STEP[d.system]))],
      trigger: options.trigger,
    });
    // The archive is named after the operation's start, as its branch step will name it.
    actions.push(...mine.map((d) => ({ ...planned(d, op?.startedAt ?? new Date()), ...outcome })));
  }
  return { actions, operations, report };
}

/** A prune operation's planned actions, each with the outcome of the step that took it. */
export function pruneOutcome(actions: RepairAction[], op: Operation): RepairAction[] {
  return actions
    .filter((a) => a.name === op.envName)
    .map((a) => {
      const step = op.steps.find((s) => s.step === PRUNE_STEP[a.system as Discrepancy['system']]);
      if (!step || (step.status === 'pending' && op.status !== 'running' && op.status !== 'queued'))
        return { ...a, outcome: 'skipped', detail: op.error ?? 'not run' };
      return {
        ...a,
        outcome: OUTCOME[step.status],
        ...(step.error || step.detail ? { detail: (step.error ?? step.detail) as string } : {}),
      };
    });
}
