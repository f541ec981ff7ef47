// A console request as the command it stands for, read by the same parser as `/env` (the same
// refusals): the path names the verb and the environment, the JSON body the rest.
import { parseArgs } from '../commands/parse.js';
import { BATCH_VERBS, type BatchVerb, type Command } from '../commands/verbs.js';
import { Failure } from '../domain/index.js';

export type Target =
  | { verb: 'create' }
  | {
      verb: 'delete' | 'retry' | 'cancel' | 'extend' | 'stop' | 'start' | 'update' | 'rollback';
      name: string;
    }
  | { verb: 'check' | 'sync' | 'prune' }
  /**
   * A batch: previewed (no id) from the body's labels, its preview carried out (`confirm`), or
   * what is left of it stopped (`cancel`).
   */
  | { verb: BatchVerb; batch: true; confirm?: string; cancel?: string };

const BATCH_ROUTE = new RegExp(`^batches/(${BATCH_VERBS.join('|')})(?:/([^/]+)(/cancel)?)?$`);

export function mutationOf(method: string, route: string): Target | null {
  if (method === 'POST' && route === 'environments') return { verb: 'create' };
  const one = /^environments\/([^/]+)$/.exec(route);
  if (method === 'DELETE' && one) return { verb: 'delete', name: one[1] as string };
  if (method === 'PATCH' && one) return { verb: 'update', name: one[1] as string };
  const act = /^environments\/([^/]+)\/(retry|cancel|extend|stop|start|rollback)$/.exec(route);
  if (method === 'POST' && act) return { verb: act[2] as 'retry', name: act[1] as string };
  const repair = /^consistency\/(check|sync|prune)$/.exec(route);
  if (method === 'POST' && repair) return { verb: repair[1] as 'check' };
  const batch = BATCH_ROUTE.exec(route);
  if (method === 'POST' && batch)
    return {
      verb: batch[1] as BatchVerb,
      batch: true,
      ...(batch[2] ? { [batch[3] ? 'cancel' : 'confirm']: batch[2] } : {}),
    };
  return null;
}

/** One word of a command line: a string without spaces or backticks, or the refusal. */
function word(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[^\s`]+$/.test(value))
    throw new Failure('invalid_input', `"${key}" must be one word (a string without spaces)`);
  return value;
}

function flag(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new Failure('invalid_input', `"${key}" must be true or false`);
  return value;
}

/**
 * `servers`, `agents` (whole numbers), `cpus` (a number) and `memory` (`"2g"`) as the flags they
 * stand for (bounds are the parser's).
 */
function nodeWords(body: Record<string, unknown>): string[] {
  const counts = ['servers', 'agents'].flatMap((key) => {
    const value = body[key];
    if (value === undefined || value === null) return [];
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new Failure('invalid_input', `"${key}" must be a whole number`);
    return [`--${key}`, String(value)];
  });
  const cpus = body.cpus;
  if (cpus !== undefined && cpus !== null && typeof cpus !== 'number')
    throw new Failure('invalid_input', '"cpus" must be a number (CPUs per node)');
  const memory = word(body, 'memory');
  return [
    ...counts,
    ...(typeof cpus === 'number' ? ['--cpus', String(cpus)] : []),
    ...(memory ? ['--memory', memory] : []),
  ];
}

/**
 * `labels` ({"team": "a"}; in an update null removes one) as the `--label` words they stand for
 * (`where` as `--where`'s); what a label may be is the parser's.
 */
function labelWords(
  body: Record<string, unknown>,
  removals: boolean,
  field: 'labels' | 'where' = 'labels',
): string[] {
  const value = body[field];
  const flag = field === 'labels' ? '--label' : '--where';
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Failure('invalid_input', `"${field}" must be an object of key: value strings`);
  return Object.entries(value).flatMap(([key, v]) => {
    if (v === null && removals) return [flag, `${key}-`];
    if (typeof v !== 'string' || /[\s`,]/.test(`${key}${v}`))
      throw new Failure(
        'invalid_input',
        `label "${key.slice(0, 63)}" must be a string without spaces or commas` +
          (removals ? ' (null removes it)' : ''),
      );
    return [flag, `${key}=${v}`];
  });
}

/** A batch's words: its labels (and extend's duration), or the preview to carry out. */
function batchWords(
  target: { confirm?: string; cancel?: string },
  body: Record<string, unknown>,
): string[] {
  if (target.confirm !== undefined) return ['--confirm', pathName(target.confirm)];
  if (target.cancel !== undefined) return ['--cancel', pathName(target.cancel)];
  const labels = labelWords(body, false);
  if (labels.length === 0)
    throw new Failure('invalid_input', '"labels" is required: the labels that select the batch');
  const duration = word(body, 'duration');
  return [...labels, ...(duration ? [duration] : [])];
}

/** The name a path segment carries, or the refusal of its malformed percent-encoding. */
export function pathName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Failure('invalid_input', 'the name in the path is not valid percent-encoding');
  }
}

/** The command a request stands for, read by the same parser as `/env`: the same refusals. */
export function commandOf(target: Target, body: Record<string, unknown>): Command {
  const words: string[] = [target.verb];
  if ('batch' in target) words.push(...batchWords(target, body));
  else if ('name' in target) {
    const name = pathName(target.name);
    if (!/^[^\s`]+$/.test(name)) throw new Failure('invalid_input', `"${name}" is not a name`);
    words.push(name);
  }
  if (target.verb === 'create') {
    const name = word(body, 'name');
    if (!name) throw new Failure('invalid_input', '"name" is required');
    words.push(name);
    const provider = word(body, 'provider');
    if (provider) words.push(provider);
    const ttl = word(body, 'ttl');
    if (ttl) words.push('--ttl', ttl);
    if (flag(body, 'portainer') === false) words.push('--no-portainer');
    if (flag(body, 'haproxy') === false) words.push('--no-haproxy');
    words.push(...nodeWords(body), ...labelWords(body, false));
    const site = word(body, 'site');
    if (site) words.push('--site', site);
    words.push(...labelWords(body, false, 'where'));
  }
  if (target.verb === 'update') {
    const ttl = word(body, 'ttl');
    if (ttl) words.push('--ttl', ttl);
    for (const key of ['portainer', 'haproxy']) {
      const on = flag(body, key);
      if (on !== undefined) words.push(on ? `--${key}` : `--no-${key}`);
    }
    const provider = word(body, 'provider');
    if (provider) words.push('--provider', provider);
    words.push(...nodeWords(body), ...labelWords(body, true));
    if (flag(body, 'confirm')) words.push('--confirm');
  }
  if (target.verb === 'rollback') {
    const version = body.version;
    if (version !== undefined && version !== null) {
      if (typeof version !== 'number' || !Number.isInteger(version))
        throw new Failure('invalid_input', '"version" must be a whole number');
      words.push(String(version));
    }
    if (flag(body, 'confirm')) words.push('--confirm');
  }
  if (target.verb === 'extend' && !('batch' in target)) {
    const duration = word(body, 'duration');
    if (duration) words.push(duration);
  }
  if (target.verb === 'prune') {
    const confirm = word(body, 'confirm');
    if (confirm) words.push('--confirm', confirm);
  }
  const parsed = parseArgs(words);
  if ('message' in parsed) throw new Failure('invalid_input', parsed.message);
  return parsed.command;
}
