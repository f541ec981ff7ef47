// create, delete, retry, cancel: record the request, then run it here with live progress. The
// same engine runs in the app's workers; a second process racing on one environment is refused.
import type { Operation, Trigger } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { nameArg, parse, providerArg } from './args.js';
import { EXIT } from './exit-codes.js';
import { operationSummary } from './format.js';
import { err, out, type CliIo } from './io.js';
import { workerName } from './owner.js';
import { progressPrinter } from './progress.js';
import { parseDuration } from '../commands/duration.js';
import {
  Failure,
  checkDerivedNames,
  ensures,
  environmentUrl,
  extendedExpiry,
  spell,
  notFound,
} from '../domain/index.js';
import { USAGE } from './help.js';

/** What these commands use of the runtime. */
type LifecycleDeps = Pick<Runtime, 'engine' | 'store' | 'urls'>;

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
    },
    USAGE.create,
  );
  // The grammar of `/env create dev k3d`: the provider as a second word, or as --provider.
  const [first, second, ...rest] = positionals;
  if (second !== undefined && values.provider !== undefined)
    throw new Failure(
      'invalid_input',
      `the provider is given twice ("${second}" and --provider ${String(values.provider)}); give it once\nUsage: ${USAGE.create}`,
    );
  const name = nameArg(first === undefined ? [] : [first, ...rest], USAGE.create);
  const provider = providerArg(second ?? values.provider);
  const tooLong = checkDerivedNames(name, provider);
  if (tooLong) throw new Failure('invalid_input', tooLong);
  const ttl =
    typeof values.ttl === 'string' ? parseDuration(values.ttl) : { ok: true as const, ms: null };
  if (!ttl.ok) throw new Failure('invalid_input', ttl.reason);
  return { values, name, provider, ttlMs: ttl.ms };
}

/** The arguments of a command that takes one environment name. */
export const nameOnly = (usage: string) => (args: string[]) => {
  const { values, positionals } = parse(args, {}, usage);
  return { values, name: nameArg(positionals, usage) };
};

export async function create(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, provider, ttlMs } = createArgs(args);
  const op = await rt.engine.request({
    kind: 'create',
    name,
    provider,
    trigger: cliTrigger(io),
    options: {
      ttlMs,
      ...(values['no-portainer'] ? { registerPortainer: false } : {}),
      ...(values['no-haproxy'] ? { haproxyRoute: false } : {}),
    },
  });
  return runAndReport(rt, op, io, values.json === true);
}

export async function remove(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name } = nameOnly(USAGE.delete)(args);
  const op = await rt.engine.request({ kind: 'delete', name, trigger: cliTrigger(io) });
  return runAndReport(rt, op, io, values.json === true);
}

/** `kindler stop|start <name>`: the cluster halted, or running again. */
export const power =
  (kind: 'stop' | 'start') =>
  async (rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> => {
    const { values, name } = nameOnly(USAGE[kind])(args);
    const op = await rt.engine.request({ kind, name, trigger: cliTrigger(io) });
    return runAndReport(rt, op, io, values.json === true);
  };

export async function retry(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name } = nameOnly(USAGE.retry)(args);
  const op = await rt.engine.retry(name, cliTrigger(io));
  return runAndReport(rt, op, io, values.json === true);
}

/** The arguments of `kindler extend <name> <duration>` (24h, 3d; `never` pins it). */
export function extendArgs(args: string[]) {
  const { values, positionals } = parse(args, {}, USAGE.extend);
  const [raw, duration, ...extra] = positionals;
  const name = nameArg(raw === undefined ? [] : [raw, ...extra], USAGE.extend);
  if (duration === undefined)
    throw new Failure('invalid_input', `a duration is required (24h, 3d)\nUsage: ${USAGE.extend}`);
  const parsed = parseDuration(duration);
  if (!parsed.ok) throw new Failure('invalid_input', parsed.reason);
  return { values, name, ms: parsed.ms };
}

/** `kindler extend <name> <duration>`: a later expiry (from now, or from the expiry ahead). */
export async function extend(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name, ms } = extendArgs(args);
  const env = await rt.store.getEnvironment(name);
  if (!env) throw notFound(name);
  const updated = await rt.store.updateEnvironment(
    name,
    ms === null
      ? { expiresAt: null, pinned: true }
      : { expiresAt: extendedExpiry(env.expiresAt, ms) },
  );
  if (values.json === true) out(io, JSON.stringify({ environment: updated }, null, 2));
  else
    out(
      io,
      updated.expiresAt
        ? `${name} now expires ${updated.expiresAt.toISOString()}.`
        : `${name} no longer expires.`,
    );
  return EXIT.ok;
}

export async function cancel(rt: LifecycleDeps, args: string[], io: CliIo): Promise<number> {
  const { values, name } = nameOnly(USAGE.cancel)(args);
  const op = await rt.engine.cancel(name);
  if (!op && !(await rt.store.getEnvironment(name)) && !(await rt.store.latestOperation(name)))
    throw notFound(name);
  if (values.json === true)
    out(io, JSON.stringify({ cancelled: op !== null, operation: op }, null, 2));
  else if (!op) out(io, `Nothing to cancel: "${name}" has no queued or running operation.`);
  else if (op.status === 'cancelled')
    out(
      io,
      `Cancelled ${op.kind} #${op.id} of "${name}": ${op.error ?? 'cancelled'}.${op.fixCommand ? ` To resume it: ${spell(op.fixCommand, 'cli')}` : ''}`,
    );
  else
    out(
      io,
      `Asked ${op.kind} #${op.id} of "${name}" to stop; it stops after the step now running (${op.currentStep ?? 'starting'}).`,
    );
  return EXIT.ok;
}

async function runAndReport(
  rt: LifecycleDeps,
  queued: Operation,
  io: CliIo,
  json: boolean,
): Promise<number> {
  if (!json) err(io, `${queued.kind} ${queued.envName}: operation #${queued.id}`);
  const final = await rt.engine.execute(queued.id, {
    owner: workerName('cli'),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(json ? {} : { observer: progressPrinter(io.stderr) }),
  });
  const op = final ?? (await rt.store.getOperation(queued.id)) ?? queued;
  if (json) out(io, JSON.stringify(op, null, 2));
  else if (!final)
    err(
      io,
      `Operation #${op.id} is being run by another worker (${op.leaseOwner ?? 'unknown'}); follow it with: kindler status ${op.envName}`,
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
  if (op.status === 'running') return EXIT.cancelled; // interrupted (signal): the next run resumes it
  return EXIT.failed;
}
