// create, delete, retry, cancel: record the request, then run it here with live progress. The
// same engine runs in the app's workers; a second process racing on one environment is refused.
import { contextOf, perform, type ActionRuntime } from '../actions/index.js';
import { sayCancel, sayExtend } from '../actions/say.js';
import type { Operation, Trigger, UrlSettings } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { nameArg, parse, providerArg } from './args.js';
import { EXIT } from './exit-codes.js';
import { operationSummary } from './format.js';
import { err, out, type CliIo } from './io.js';
import { workerName } from '../system/owner.js';
import { progressPrinter } from './progress.js';
import { runHere } from './run-here.js';
import { parseDuration } from '../commands/duration.js';
import {
  Failure,
  checkDerivedNames,
  checkNodeCount,
  ensures,
  environmentUrl,
} from '../domain/index.js';
import { updatePatch, versionArg } from '../commands/parse.js';
import { USAGE } from './help.js';

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

/** create's arguments, checked without a database (a bad name exits 2 even when it is down). */
export function createArgs(args: string[]) {
  const { values, positionals } = parse(
    args,
    {
      provider: { type: 'string', short: 'p' },
      ttl: { type: 'string' },
      'no-portainer': { type: 'boolean' },
      'no-haproxy': { type: 'boolean' },
      servers: { type: 'string' },
      agents: { type: 'string' },
    },
    USAGE.create,
  );
  // The grammar of `/env create dev k3d`: the provider as a second word, or as --provider.
  const [first, second, ...rest] = positionals;
  if (second !== undefined && values.provider !== undefined)
    throw new Failure(
      'invalid_input',
      `the provider is given twice ("${second}" and --provider ` +
        `${String(values.provider)}); give it once\nUsage: ${USAGE.create}`,
    );
  const name = nameArg(first === undefined ? [] : [first, ...rest], USAGE.create);
  const provider = providerArg(second ?? values.provider);
  const tooLong = checkDerivedNames(name, provider);
  if (tooLong) throw new Failure('invalid_input', tooLong);
  const ttl =
    typeof values.ttl === 'string' ? parseDuration(values.ttl) : { ok: true as const, ms: null };
  if (!ttl.ok) throw new Failure('invalid_input', ttl.reason);
  const nodes: { servers?: number; agents?: number } = {};
  for (const role of ['servers', 'agents'] as const) {
    const raw = values[role];
    if (typeof raw !== 'string') continue;
    const refused = checkNodeCount(role, raw);
    if (refused) throw new Failure('invalid_input', `${refused}\nUsage: ${USAGE.create}`);
    nodes[role] = Number(raw);
  }
  return { values, name, provider, ttlMs: ttl.ms, nodes };
}

/** The arguments of a command that takes one environment name. */
export const nameOnly = (usage: string) => (args: string[]) => {
  const { values, positionals } = parse(args, {}, usage);
  return { values, name: nameArg(positionals, usage) };
};

export async function create(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, provider, ttlMs, nodes } = createArgs(args);
  const { operation } = await perform(
    {
      verb: 'create',
      name,
      provider,
      ttlMs,
      registerPortainer: values['no-portainer'] !== true,
      haproxyRoute: values['no-haproxy'] !== true,
      ...nodes,
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

/** The arguments of `kindler extend <name> [duration]` (24h by default, 3d; `never` pins it). */
export function extendArgs(args: string[]) {
  const { values, positionals } = parse(args, {}, USAGE.extend);
  const [raw, duration, ...extra] = positionals;
  const name = nameArg(raw === undefined ? [] : [raw, ...extra], USAGE.extend);
  const parsed = parseDuration(duration ?? '24h');
  if (!parsed.ok) throw new Failure('invalid_input', parsed.reason);
  return { values, name, ms: parsed.ms };
}

/** `kindler extend <name> [duration]`: a later expiry (from now, or from the expiry ahead). */
export async function extend(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, ms } = extendArgs(args);
  const command = { verb: 'extend', name, durationMs: ms } as const;
  const outcome = await perform(command, contextOf(rt, cliTrigger(io)));
  if (values.json === true) out(io, JSON.stringify({ environment: outcome.environment }, null, 2));
  else out(io, sayExtend(outcome, 'cli'));
  return EXIT.ok;
}

const UPDATE_FLAGS = {
  ttl: { type: 'string' },
  portainer: { type: 'boolean' },
  'no-portainer': { type: 'boolean' },
  haproxy: { type: 'boolean' },
  'no-haproxy': { type: 'boolean' },
  provider: { type: 'string', short: 'p' },
  servers: { type: 'string' },
  agents: { type: 'string' },
  confirm: { type: 'boolean' },
} as const;

/** `kindler update`'s arguments, read by the same rules as `/env update`'s. */
export function updateArgs(args: string[]) {
  const { values, positionals } = parse(args, UPDATE_FLAGS, USAGE.update);
  const name = nameArg(positionals, USAGE.update);
  const flags = new Map<string, string | true>();
  for (const key of Object.keys(UPDATE_FLAGS)) {
    const value = values[key];
    if (typeof value === 'string') flags.set(key, value);
    else if (value === true) flags.set(key, true);
  }
  const patch = updatePatch(name, flags);
  if ('message' in patch)
    throw new Failure(
      'invalid_input',
      `${patch.message.replace(/`/g, '')}\nUsage: ${USAGE.update}`,
    );
  return { values, name, patch: patch.patch, confirm: values.confirm === true };
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

/** `kindler rollback <name> [version]`: the version before the current one by default. */
export function rollbackArgs(args: string[]) {
  const { values, positionals } = parse(args, { confirm: { type: 'boolean' } }, USAGE.rollback);
  const [raw, version, ...extra] = positionals;
  const name = nameArg(raw === undefined ? [] : [raw, ...extra], USAGE.rollback);
  const number = versionArg(version);
  if (number === undefined)
    throw new Failure(
      'invalid_input',
      `"${String(version).slice(0, 20)}" is not a version number (1, 2, …)\n` +
        `Usage: ${USAGE.rollback}`,
    );
  return { values, name, version: number, confirm: values.confirm === true };
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
