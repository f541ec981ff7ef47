// check, sync and prune from the terminal: the same actions as /env check|sync|prune. check exits
// 0 only when everything checked is consistent (5 otherwise); prune previews and prints the id
// that `kindler prune --confirm <id>` carries out; sync and a confirmed prune run their operations
// here, one by one, with progress.
import { contextOf, perform, type ActionRuntime } from '../actions/index.js';
import { checkConsistency } from '../consistency/check.js';
import {
  pruneOutcome,
  syncOutcome,
  type RepairAction,
  type RepairPlan,
  type RepairResult,
} from '../consistency/repair.js';
import { Failure, checkEnvName, type EnvName, type Operation } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { renderActionsText, renderReportText } from './consistency-text.js';
import { parse, noPositionals } from './args.js';
import { EXIT } from './exit-codes.js';
import { err, out, type CliIo } from './io.js';
import { cliTrigger } from './lifecycle-commands.js';
import { workerName } from '../system/owner.js';
import { progressPrinter } from './progress.js';
import { runHere } from './run-here.js';
import { USAGE } from './help.js';

type ConsistencyDeps = ActionRuntime & Pick<Runtime, 'engine' | 'config'>;

export async function check(rt: ConsistencyDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.check);
  noPositionals(positionals, USAGE.check);
  // The terminal asks for a fresh comparison (the server's shared report is for its requests).
  const report = await checkConsistency(rt);
  out(io, values.json === true ? JSON.stringify(report, null, 2) : renderReportText(report));
  return report.consistent ? EXIT.ok : EXIT.inconsistent;
}

/** Records a sync operation per environment that needs one, then runs them here, one by one. */
export async function sync(rt: ConsistencyDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.sync);
  const json = values.json === true;
  const command = { verb: 'sync', ...named(positionals) } as const;
  const plan = await perform(command, contextOf(rt, cliTrigger(io)));
  const result = await runPlan(rt, plan, io, json, (op) => syncOutcome(op));
  return finish(result, json, io, 'sync', true);
}

export async function prune(rt: ConsistencyDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { confirm: { type: 'string' } }, USAGE.prune);
  const json = values.json === true;
  const confirm = typeof values.confirm === 'string' ? values.confirm : null;
  if (confirm && positionals.length)
    throw new Failure(
      'invalid_input',
      `a confirmation carries out its preview as it was: give no names\nUsage: ${USAGE.prune}`,
    );
  const command = { verb: 'prune', confirm, ...named(positionals) } as const;
  const outcome = await perform(command, contextOf(rt, cliTrigger(io)));
  if (!outcome.confirmed) {
    const code = finish(outcome, json, io, 'prune', false, outcome.preview);
    if (outcome.preview && !json)
      err(
        io,
        `\nTo do this: kindler prune --confirm ${outcome.preview.id} (before ` +
          `${outcome.preview.expiresAt.toISOString()}). Only what is listed is removed.`,
      );
    return code;
  }
  const result = await runPlan(rt, outcome, io, json, (op) => pruneOutcome(outcome.actions, op));
  return finish(result, json, io, 'prune', true);
}

/** Runs each operation of the plan here, with progress; the actions as they turned out. */
async function runPlan(
  rt: ConsistencyDeps,
  plan: RepairPlan,
  io: CliIo,
  json: boolean,
  outcome: (op: Operation) => RepairAction[],
): Promise<RepairResult> {
  const actions = plan.actions.filter((a) => a.outcome !== 'queued');
  for (const recorded of plan.operations) {
    if (!json) err(io, `${recorded.kind} ${recorded.envName}: operation #${recorded.id}`);
    const final = await runHere(rt, recorded, io, {
      owner: workerName('cli'),
      waitMs: rt.config.KINDLER_DB_WAIT_SECONDS * 1000,
      ...(json ? {} : { observer: progressPrinter(io.stderr) }),
    });
    actions.push(...outcome(final ?? (await rt.store.getOperation(recorded.id)) ?? recorded));
  }
  return {
    actions,
    report: plan.operations.length ? await checkConsistency(rt) : plan.report,
  };
}

function finish(
  result: RepairResult,
  json: boolean,
  io: CliIo,
  verb: 'sync' | 'prune',
  confirmed: boolean,
  preview?: unknown,
): number {
  if (json)
    out(
      io,
      JSON.stringify(
        { confirmed, ...(preview !== undefined ? { preview } : {}), ...result },
        null,
        2,
      ),
    );
  else
    out(
      io,
      `${renderActionsText(result.actions, verb, confirmed)}\n\n${renderReportText(result.report)}`,
    );
  if (result.actions.some((a) => a.outcome === 'failed')) return EXIT.failed;
  if (verb === 'prune' && !confirmed) return EXIT.ok;
  return result.report.consistent ? EXIT.ok : EXIT.inconsistent;
}

function named(positionals: string[]): { names?: EnvName[] } {
  const names = positionals.map((raw) => {
    const c = checkEnvName(raw);
    if (!c.ok) throw new Failure('invalid_input', c.reason);
    return c.name;
  });
  return names.length ? { names } : {};
}
