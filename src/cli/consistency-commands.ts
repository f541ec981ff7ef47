// check, sync and prune from the terminal: the same report and repairs as /env check|sync|prune.
// check exits 0 only when everything checked is consistent (5 otherwise); prune only previews
// unless --confirm is given.
import { Failure, checkEnvName } from '../domain/index.js';
import { checkConsistency } from '../consistency/check.js';
import {
  previewPrune,
  pruneOutcome,
  requestPrunes,
  requestSyncs,
  syncOutcome,
  type RepairAction,
  type RepairPlan,
  type RepairResult,
} from '../consistency/repair.js';
import type { Operation } from '../domain/index.js';
import { renderActionsText, renderReportText } from '../render/consistency.js';
import type { RepairDeps } from '../consistency/repair.js';
import { parse, noPositionals } from './args.js';
import { EXIT } from './exit-codes.js';
import { err, out, type CliIo } from './io.js';
import { cliTrigger } from './lifecycle-commands.js';
import { workerName } from './owner.js';
import { progressPrinter } from './progress.js';
import { USAGE } from './help.js';

export async function check(rt: RepairDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.check);
  noPositionals(positionals, USAGE.check);
  const report = await checkConsistency(rt);
  out(io, values.json === true ? JSON.stringify(report, null, 2) : renderReportText(report));
  return report.consistent ? EXIT.ok : EXIT.inconsistent;
}

/** Records a sync operation per environment that needs one, then runs them here, one by one. */
export async function sync(rt: RepairDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.sync);
  const json = values.json === true;
  const plan = await requestSyncs(rt, { names: names(positionals), trigger: cliTrigger(io) });
  const result = await runPlan(rt, plan, io, json, (op) => syncOutcome(op));
  return finish(result, json, io, 'sync', true);
}

/** Runs each operation of the plan here, with progress; the actions as they turned out. */
async function runPlan(
  rt: RepairDeps,
  plan: RepairPlan,
  io: CliIo,
  json: boolean,
  outcome: (op: Operation) => RepairAction[],
): Promise<RepairResult> {
  const actions = plan.actions.filter((a) => a.outcome !== 'queued');
  for (const recorded of plan.operations) {
    if (!json) err(io, `${recorded.kind} ${recorded.envName}: operation #${recorded.id}`);
    const final = await rt.engine.execute(recorded.id, {
      owner: workerName('cli'),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(json ? {} : { observer: progressPrinter(io.stderr) }),
    });
    actions.push(...outcome(final ?? (await rt.store.getOperation(recorded.id)) ?? recorded));
  }
  return {
    actions,
    report: plan.operations.length ? await checkConsistency(rt) : plan.report,
  };
}

export async function prune(rt: RepairDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { confirm: { type: 'boolean' } }, USAGE.prune);
  const confirm = values.confirm === true;
  const json = values.json === true;
  if (!confirm)
    return finish(await previewPrune(rt, { names: names(positionals) }), json, io, 'prune', false);
  const plan = await requestPrunes(rt, { names: names(positionals), trigger: cliTrigger(io) });
  const result = await runPlan(rt, plan, io, json, (op) => pruneOutcome(plan.actions, op));
  return finish(result, json, io, 'prune', true);
}

function finish(
  result: RepairResult,
  json: boolean,
  io: CliIo,
  verb: 'sync' | 'prune',
  confirmed: boolean,
): number {
  if (json) out(io, JSON.stringify({ confirmed, ...result }, null, 2));
  else
    out(
      io,
      `${renderActionsText(result.actions, verb, confirmed)}\n\n${renderReportText(result.report)}`,
    );
  if (result.actions.some((a) => a.outcome === 'failed')) return EXIT.failed;
  if (verb === 'prune' && !confirmed) return EXIT.ok;
  return result.report.consistent ? EXIT.ok : EXIT.inconsistent;
}

function names(positionals: string[]): string[] {
  return positionals.map((raw) => {
    const c = checkEnvName(raw);
    if (!c.ok) throw new Failure('invalid_input', c.reason);
    return c.name;
  });
}
