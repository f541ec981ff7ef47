// Runs the consistency check: one listing per system (never a call per environment), read in
// parallel, each bounded in time; a system that fails to answer is `unknown`, one that is not
// configured is `skipped`. The report is kept as the latest one (state `consistency:latest`).
import type { Config } from '../config/config.js';
import {
  MANAGEMENT_CLUSTER,
  messageOf,
  type Environment,
  type Redactor,
  type Site,
} from '../domain/index.js';
import type { BranchStore } from '../git/branch-store.js';
import { DEPLOY_PREFIX, branchDrift, type Render } from '../git/branch-step.js';
import type { ExpectedTree } from '../git/branch-render.js';
import type { Read, StepHandler, SystemStep } from '../lifecycle/step.js';
import { backendTarget } from '../registrars/haproxy-config.js';
import { routeSettings } from '../registrars/gateways.js';
import { stateKey } from '../store/state-key.js';
import { StoredReport, storedReport } from './stored-report.js';
import type { Store } from '../store/store.js';
import { compare, type ConsistencyReport, type Expected, type Views } from './compare.js';

export const LATEST_REPORT = stateKey('consistency:latest', StoredReport);
/** Branches whose drift is explained file by file (each costs a read of the branch). */
const EXPLAIN_LIMIT = 20;

/** What a consistency check reads: the rows, each step's system, and what the templates render. */
export interface CheckDeps {
  store: Store;
  /** Each system step, observed once per check. */
  handlers: Record<SystemStep, StepHandler>;
  branches: BranchStore;
  /** The files a row's branch should hold. */
  render: Render;
  /** The deploy/ tree id each row's branch should have, by name. */
  expectedTrees(envs: Environment[]): Promise<Map<string, ExpectedTree>>;
  redactor: Redactor;
  config: Config;
  /** The sites (KINDLER_SITES): a route to one with an address goes there. */
  sites?: readonly Site[];
}

/** The check running in this process, if any: checks take turns, one at a time. */
let turn: Promise<unknown> = Promise.resolve();

/**
 * A fresh check, after any other check in this process has finished: every check lists every
 * system, so however many are asked for (comments, buttons, the console, repairs) the systems and
 * the database see one at a time from this process.
 */
export function checkConsistency(
  rt: CheckDeps,
  options: { now?: Date } = {},
): Promise<ConsistencyReport> {
  const run = turn.then(
    () => runCheck(rt, options),
    () => runCheck(rt, options),
  );
  turn = run.catch(() => undefined);
  return run;
}

async function runCheck(rt: CheckDeps, options: { now?: Date }): Promise<ConsistencyReport> {
  const rows = (await rt.store.listEnvironments()).filter((e) => e.name !== MANAGEMENT_CLUSTER);
  const [views, expected] = await Promise.all([observeAll(rt), expectations(rt, rows)]);
  const report = compare(expected, views, options.now ? { checkedAt: options.now } : {});
  await explainBranchDrift(rt, report, rows);
  report.discrepancies.forEach((d) => (d.detail = rt.redactor.redact(d.detail)));
  await rt.store.setState(LATEST_REPORT, storedReport(report));
  return report;
}

/** Every step's system listed once, in parallel, each listing bounded by KINDLER_CLI_TIMEOUT_MS. */
export async function observeAll(rt: Pick<CheckDeps, 'handlers' | 'redactor' | 'config'>) {
  const read = reader(rt.config.KINDLER_CLI_TIMEOUT_MS, (text) => rt.redactor.redact(text));
  const steps = Object.entries(rt.handlers);
  const views = await Promise.all(steps.map(([, handler]) => handler.observe(read)));
  return Object.fromEntries(steps.map(([step], i) => [step, views[i]])) as Views;
}

/** A `Read` whose listing that fails or takes longer than `timeoutMs` is `unknown`, with why. */
export function reader(timeoutMs: number, redact: (text: string) => string): Read {
  return async (list) => {
    if (typeof list === 'string') return { state: 'skipped', reason: list };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
            timeoutMs,
          )),
      );
      return { state: 'ok', items: await Promise.race([list(), timeout]) };
    } catch (error) {
      return { state: 'unknown', reason: redact(messageOf(error)) };
    } finally {
      clearTimeout(timer);
    }
  };
}

async function expectations(rt: CheckDeps, rows: Environment[]): Promise<Expected[]> {
  const [operations, trees] = await Promise.all([
    rt.store.listOperations({ status: ['queued', 'running'], limit: 1000 }),
    rt.expectedTrees(rows),
  ]);
  const active = new Map(operations.map((op) => [op.envName as string, op]));
  const settingsOf = routeSettings(rt.sites ?? [], rt.config.HAPROXY_BACKEND_HOST);
  return rows.map((env): Expected => {
    const expected = trees.get(env.name) ?? { error: 'not rendered' };
    return {
      env,
      route: backendTarget(env, settingsOf(env.site)),
      busy: active.get(env.name) ?? null,
      ...('tree' in expected
        ? { tree: expected.tree }
        : { tree: null, renderError: expected.error }),
    };
  });
}

/** Replaces "deploy/ differs" with the files that differ, for the first few branches. */
async function explainBranchDrift(
  rt: CheckDeps,
  report: ConsistencyReport,
  rows: Environment[],
): Promise<void> {
  const byName = new Map(rows.map((r) => [r.name as string, r]));
  const drifted = report.discrepancies
    .filter(
      (d) =>
        d.system === 'git' &&
        d.kind === 'mismatch' &&
        byName.has(d.name) &&
        d.detail.startsWith('deploy/'),
    )
    .slice(0, EXPLAIN_LIMIT);
  await Promise.all(
    drifted.map(async (d) => {
      try {
        const env = byName.get(d.name) as Environment;
        const actual = await rt.branches.readFiles(env.name, DEPLOY_PREFIX);
        const diffs = actual ? branchDrift(actual, await rt.render(env)) : [];
        if (diffs.length) d.detail = `deploy/ differs from the templates: ${diffs.join(', ')}`;
      } catch {
        // The summary line stays; the detail is a courtesy.
      }
    }),
  );
}
