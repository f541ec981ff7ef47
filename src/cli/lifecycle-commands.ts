// create, delete, retry, cancel: record the request, then run it here with live progress. The
// same engine runs in the app's workers; a second process racing on one environment is refused.
import { contextOf, perform, type ActionRuntime } from '../actions/index.js';
import { sayCancel, sayExtend } from '../actions/say.js';
import type { Operation, Trigger, UrlSettings } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { EXIT } from './exit-codes.js';
import { operationSummary } from './format.js';
import { err, out, type CliIo } from './io.js';
import { workerName } from '../system/owner.js';
import { progressPrinter } from './progress.js';
import { runHere } from './run-here.js';
import { ensures, environmentUrl } from '../domain/index.js';
import { USAGE } from './help.js';
import { createArgs, extendArgs, nameOnly, rollbackArgs, updateArgs } from './lifecycle-args.js';

/** What these commands use of the runtime. */
type LifecycleDeps = ActionRuntime & Pick<Runtime, 'config'> & { urls: UrlSettings };

export const cliTrigger = (io: CliIo): Trigger => ({
  source: 'cli',
  actor: io.env.USER ?? io.env.LOGNAME ?? null,
  via: 'cli',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
});

export async function create(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, provider, ttlMs, nodes, labels, place } = createArgs(args);
  const { operation } = await perform(
    {
      verb: 'create',
      name,
      provider,
      ttlMs,
      registerPortainer: values['no-portainer'] !== true,
      haproxyRoute: values['no-haproxy'] !== true,
      ...nodes,
      ...(labels ? { labels } : {}),
      ...place,
    },
    contextOf(rt, cliTrigger(io)),
  );
  return runAndReport(rt, operation, io, values.json === true);
}

/** `kindler delete|stop|start|retry <name>`: the operation recorded, then run here. */
export const operation =
  (verb: 'delete' | 'stop' | 'start' | 'retry') =>
  async (rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> => {
    const { values, name } = nameOnly(USAGE[verb])(args);
    const outcome = await perform({ verb, name }, contextOf(rt, cliTrigger(io)));
    return runAndReport(rt, outcome.operation, io, values.json === true);
  };

/** `kindler extend <name> [duration]`: a later expiry (from now, or from the expiry ahead). */
export async function extend(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, ms } = extendArgs(args);
  const command = { verb: 'extend', name, durationMs: ms } as const;
  const outcome = await perform(command, contextOf(rt, cliTrigger(io)));
  if (values.json === true) out(io, JSON.stringify({ environment: outcome.environment }, null, 2));
  else out(io, sayExtend(outcome, 'cli'));
  return EXIT.ok;
}

/** `kindler update <name> …`: the change recorded, then run here with only the steps it needs. */
export async function update(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, patch, confirm } = updateArgs(args);
  const outcome = await perform(
    { verb: 'update', name, patch, confirm },
    contextOf(rt, cliTrigger(io)),
  );
  return runAndReport(rt, outcome.operation, io, values.json === true);
}

export async function rollback(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, version, confirm } = rollbackArgs(args);
  const outcome = await perform(
    { verb: 'rollback', name, version, confirm },
    contextOf(rt, cliTrigger(io)),
  );
  return runAndReport(rt, outcome.operation, io, values.json === true);
}

export async function cancel(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name } = nameOnly(USAGE.cancel)(args);
  const outcome = await perform({ verb: 'cancel', name }, contextOf(rt, cliTrigger(io)));
  if (values.json === true)
    out(io, JSON.stringify({ cancelled: true, operation: outcome.operation }, null, 2));
  else out(io, sayCancel(outcome, 'cli'));
  return EXIT.ok;
}

async function runAndReport(
  rt: LifecycleDeps,
  queued: Operation,
  io: CliIo,
  json: boolean,
): Promise<number> {
  if (!json) err(io, `${queued.kind} ${queued.envName}: operation #${queued.id}`);
  const final = await runHere(rt, queued, io, {
    owner: workerName('cli'),
    waitMs: rt.config.KINDLER_DB_WAIT_SECONDS * 1000,
    ...(json ? {} : { observer: progressPrinter(io.stderr) }),
  });
  const op = final ?? (await rt.store.getOperation(queued.id)) ?? queued;
  if (json) out(io, JSON.stringify(op, null, 2));
  else if (!final)
    err(
      io,
      `Operation #${op.id} is being run by another worker ` +
        `(${op.leaseOwner ?? 'unknown'}); follow it with: kindler status ${op.envName}`,
    );
  // The steps were shown as they ran (progressPrinter): the summary does not repeat them.
  else err(io, `\n${operationSummary(op, { steps: false })}`);
  if (!final) return EXIT.refused;
  if (op.status === 'success') {
    // The result a script wants, on stdout: where the environment answers.
    const env = ensures(op.kind) ? await rt.store.getEnvironment(op.envName) : null;
    if (env && !json) out(io, environmentUrl(env, rt.urls));
    return EXIT.ok;
  }
  if (op.status === 'cancelled') return EXIT.cancelled;
  // Interrupted (a signal): the next run resumes it.
  if (op.status === 'running') return EXIT.cancelled;
  return EXIT.failed;
}
