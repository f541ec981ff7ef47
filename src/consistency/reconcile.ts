// The reconcile loop's pass: one consistency check, then — when automatic repair is on — a sync
// operation for each environment whose systems lack what its row implies (a start for a cluster
// stopped while its row says it runs), requested by the loop
// itself (actor `kindler`, trigger `monitor`) and run by the engine like any other. A sync creates
// and updates, never deletes: orphans (prune) and clusters with other settings (recreate) are only
// reported. An environment repaired automatically `maxPerHour` times in the last hour is left to a
// person (damped), so a fix that does not hold does not run for ever.
import {
  classify,
  command,
  envName,
  messageOf,
  type Operation,
  type Trigger,
} from '../domain/index.js';
import { checkConsistency } from './check.js';
import type { ConsistencyReport } from './compare.js';
import { requestSyncs, type RepairAction, type RepairDeps } from './repair.js';

export type AutoRepair = 'off' | 'non-destructive';

export interface ReconcileOptions {
  mode: AutoRepair;
  /** Automatic repairs of one environment in an hour before it is damped. */
  maxPerHour: number;
  /** Operations one pass may record. */
  limit: number;
  /** Where the repairs report (the drift issue), besides the console. */
  reportTo?: Pick<Trigger, 'repo' | 'issueNumber' | 'url'> & {
    /** The commit a repair's check run goes on, asked only when there is a repair to make. */
    headSha?: () => Promise<string | null>;
  };
  now?: Date;
}

export interface ReconcileResult {
  report: ConsistencyReport;
  /** The repairs requested, and those not (skipped, with why); empty when repair is off. */
  actions: RepairAction[];
  operations: Operation[];
  /** Environments that needed repair but were repaired too often in the last hour. */
  damped: string[];
}

export const MONITOR_ACTOR = 'kindler';
const HOUR_MS = 3_600_000;

/** Whether an operation is one of the loop's own repairs. */
export const isAutoRepair = (op: Operation): boolean =>
  (op.kind === 'sync' || op.kind === 'start') && op.trigger.source === 'monitor';

/** A check, then its automatic repairs. */
export async function reconcilePass(
  rt: RepairDeps,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  return autoRepair(
    rt,
    await checkConsistency(rt, options.now ? { now: options.now } : {}),
    options,
  );
}

/** The repairs a report calls for, requested when automatic repair is on (and not damped). */
export async function autoRepair(
  rt: RepairDeps,
  report: ConsistencyReport,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  if (options.mode === 'off' || report.consistent)
    return { report, actions: [], operations: [], damped: [] };
  const now = options.now ?? new Date();
  const needing = report.matrix
    .filter(
      (r) =>
        r.inDatabase && Object.values(r.cells).some((c) => c === 'missing' || c === 'mismatch'),
    )
    .map((r) => r.name);
  const damped: string[] = [];
  const names: string[] = [];
  for (const name of needing) {
    const recent = (await rt.store.listOperations({ envName: envName(name), limit: 50 })).filter(
      (op) => isAutoRepair(op) && now.getTime() - op.startedAt.getTime() < HOUR_MS,
    );
    (recent.length >= options.maxPerHour ? damped : names).push(name);
  }
  const skipped: RepairAction[] = damped.map((name) => ({
    name,
    system: 'all',
    action: 'repair automatically',
    outcome: 'skipped',
    detail:
      `repaired automatically ${options.maxPerHour} times in the last hour and still drifting; ` +
      'left for a person',
    fix: command('sync', name),
  }));
  if (names.length === 0) return { report, actions: skipped, operations: [], damped };
  const trigger: Trigger = {
    source: 'monitor',
    actor: MONITOR_ACTOR,
    via: null,
    url: options.reportTo?.url ?? null,
    repo: options.reportTo?.repo ?? null,
    issueNumber: options.reportTo?.issueNumber ?? null,
    headSha: (await options.reportTo?.headSha?.()) ?? null,
  };
  // A cluster stopped while its row says it runs is started (what else it lacks, next pass).
  const stopped = new Set(
    report.discrepancies
      .filter((d) => d.fix && 'verb' in d.fix && d.fix.verb === 'start')
      .map((d) => d.name),
  );
  const started: Operation[] = [];
  const startActions: RepairAction[] = [];
  for (const name of names.filter((n) => stopped.has(n))) {
    try {
      started.push(await rt.engine.request({ kind: 'start', name: envName(name), trigger }));
      startActions.push({ name, system: 'cluster', action: 'start', outcome: 'queued' });
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      startActions.push({
        name,
        system: 'cluster',
        action: 'start',
        outcome: 'skipped',
        detail: messageOf(error),
      });
    }
  }
  const rest = names.filter((n) => !stopped.has(n));
  if (rest.length === 0)
    return { report, actions: [...startActions, ...skipped], operations: started, damped };
  const plan = await requestSyncs(rt, {
    names: rest,
    report,
    limit: Math.max(0, options.limit - started.length),
    trigger,
  });
  return {
    report,
    actions: [...startActions, ...plan.actions, ...skipped],
    operations: [...started, ...plan.operations],
    damped,
  };
}
