// The arguments of the lifecycle commands, checked before anything is opened or loaded: a bad name
// or flag exits 2 at Node's floor, with nothing of the engine, the store or the actions loaded.
import { Failure, checkDerivedNames } from '../domain/index.js';
import { parseDuration } from '../commands/duration.js';
import {
  labelSet,
  nodeCounts,
  placeFlags,
  updatePatch,
  versionArg,
} from '../commands/update-flags.js';
import { batchOf } from '../commands/batch-args.js';
import type { BatchCommand, BatchVerb } from '../commands/verbs.js';
import { nameArg, parse, providerArg } from './args.js';
import { USAGE } from './help.js';

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
      cpus: { type: 'string' },
      memory: { type: 'string' },
      label: { type: 'string', multiple: true },
      site: { type: 'string' },
      where: { type: 'string', multiple: true },
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
  const flags = flagMap(values, ['servers', 'agents', 'cpus', 'memory', 'label', 'site', 'where']);
  const nodes = nodeCounts(flags);
  if ('message' in nodes)
    throw new Failure(
      'invalid_input',
      `${nodes.message.replace(/`/g, '')}\nUsage: ${USAGE.create}`,
    );
  const labels = labelSet(flags);
  if ('message' in labels)
    throw new Failure('invalid_input', `${labels.message}\nUsage: ${USAGE.create}`);
  const place = placeFlags(flags);
  if ('message' in place)
    throw new Failure(
      'invalid_input',
      `${place.message.replace(/`/g, '')}\nUsage: ${USAGE.create}`,
    );
  return { values, name, provider, ttlMs: ttl.ms, nodes, labels: labels.labels, place };
}

/** The arguments of a command that takes one environment name. */
export const nameOnly = (usage: string) => (args: string[]) => {
  const { values, positionals } = parse(args, {}, usage);
  return { values, name: nameArg(positionals, usage) };
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

const UPDATE_FLAGS = {
  ttl: { type: 'string' },
  portainer: { type: 'boolean' },
  'no-portainer': { type: 'boolean' },
  haproxy: { type: 'boolean' },
  'no-haproxy': { type: 'boolean' },
  provider: { type: 'string', short: 'p' },
  servers: { type: 'string' },
  agents: { type: 'string' },
  cpus: { type: 'string' },
  memory: { type: 'string' },
  label: { type: 'string', multiple: true },
  confirm: { type: 'boolean' },
} as const;

/** `kindler update`'s arguments, read by the same rules as `/env update`'s. */
export function updateArgs(args: string[]) {
  const { values, positionals } = parse(args, UPDATE_FLAGS, USAGE.update);
  const name = nameArg(positionals, USAGE.update);
  const flags = flagMap(values, Object.keys(UPDATE_FLAGS));
  const patch = updatePatch(name, flags);
  if ('message' in patch)
    throw new Failure(
      'invalid_input',
      `${patch.message.replace(/`/g, '')}\nUsage: ${USAGE.update}`,
    );
  return { values, name, patch: patch.patch, confirm: values.confirm === true };
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

/**
 * Parsed options as the flags the shared readers take (those of `/env`): a value, `true`, or a
 * repeated one (`--label a=1 --label b=2,c=3`) joined by commas.
 */
export function flagMap(values: Record<string, unknown>, keys: readonly string[]) {
  const flags = new Map<string, string | true>();
  for (const key of keys) {
    const value = values[key];
    if (typeof value === 'string') flags.set(key, value);
    else if (value === true) flags.set(key, true);
    else if (Array.isArray(value) && value.length) flags.set(key, value.join(','));
  }
  return flags;
}

/**
 * Whether the arguments ask for a batch (`--label …`, `--confirm <batch>` or `--cancel <batch>`),
 * not one name.
 */
export const isBatchArgs = (args: string[]): boolean =>
  args.some((a) => /^--(label|confirm|cancel)(=|$)/.test(a));

/** A batch's arguments, read by the same rules as `/env delete --label …`'s. */
export function batchArgs(verb: BatchVerb, args: string[]) {
  const { values, positionals } = parse(
    args,
    {
      label: { type: 'string', multiple: true },
      confirm: { type: 'string' },
      cancel: { type: 'string' },
    },
    USAGE[verb],
  );
  const batch = batchOf(verb, positionals, flagMap(values, ['label', 'confirm', 'cancel']));
  if ('message' in batch)
    throw new Failure('invalid_input', `${batch.message.replace(/`/g, '')}\nUsage: ${USAGE[verb]}`);
  return { values, command: batch.command as BatchCommand };
}
