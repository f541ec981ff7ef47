// Comment text → commands. Three outcomes per line (as Atlantis does): a command to run, a reply
// (usage, "did you mean", a precise refusal), or nothing at all. Never throws.
import {
  DEFAULT_PROVIDER,
  checkDerivedNames,
  checkEnvName,
  isProviderName,
  type EnvName,
  type ProviderName,
} from '../domain/index.js';
import { parseDuration } from './duration.js';
import {
  capitalise,
  clip,
  labelSet,
  nodeCounts,
  placeFlags,
  updatePatch,
  versionArg,
} from './update-flags.js';
import { batchOf } from './batch-args.js';
import { CODE_SPAN, plainLines } from './strip-markdown.js';
import { closest } from './suggest.js';
import { usageHint } from './usage.js';
import { SPECS, VERBS, isBatchVerb, type Command, type Verb } from './verbs.js';

export type ParsedLine =
  | { kind: 'command'; command: Command; line: string }
  | { kind: 'reply'; message: string; line: string };

export type CommentParse = { kind: 'ignore' } | { kind: 'lines'; lines: ParsedLine[] };

const PREFIX = /^\s*\/env(?=\s|$)(.*)$/;
const DEFAULT_EXTEND_MS = 24 * 3_600_000;

export function parseComment(body: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  for (const raw of plainLines(body)) {
    const match = PREFIX.exec(raw);
    if (!match) continue;
    const line = raw.trim().slice(0, 200);
    if (raw.includes(CODE_SPAN)) {
      out.push({
        kind: 'reply',
        message:
          'Code spans (`…`) are not arguments, and nothing was run. Write the command in plain ' +
          'text, e.g. `/env create dev k3d`.',
        line: line.split(CODE_SPAN).join('`…`').replace(/\s+/g, ' ').trim(),
      });
      continue;
    }
    const result = parseArgs((match[1] ?? '').trim().split(/\s+/).filter(Boolean));
    out.push(
      'message' in result
        ? { kind: 'reply', message: result.message, line }
        : { kind: 'command', command: result.command, line },
    );
  }
  return out;
}

export function parseCommentResult(body: string): CommentParse {
  const lines = parseComment(body);
  return lines.length === 0 ? { kind: 'ignore' } : { kind: 'lines', lines };
}

type Result = { command: Command } | { message: string };

/** One command from its words (`create dev k3d --ttl 24h`), as a comment's line is read. */
export function parseArgs(tokens: string[]): Result {
  const [first, ...rest] = tokens;
  if (first === undefined) return { command: { verb: 'help' } };
  const verb = VERBS.find((v) => v === first);
  if (!verb) {
    const guess = closest(first, VERBS);
    return {
      message:
        `\`${clip(first)}\` is not a ` +
        `command.${guess ? ` Did you mean \`/env ${guess}\`?` : ''} ` +
        `Send \`/env help\` for the list.`,
    };
  }
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as string;
    if (!token.startsWith('--')) {
      positionals.push(token);
      continue;
    }
    const [key = '', inline] = token.slice(2).split(/=(.*)/s, 2);
    if (!(key in SPECS[verb].flags)) {
      const guess = closest(key, Object.keys(SPECS[verb].flags));
      return refuse(
        verb,
        `\`--${clip(key)}\` is not an option of \`/env ` +
          `${verb}\`.${guess ? ` Did you mean \`--${guess}\`?` : ''}`,
      );
    }
    if (SPECS[verb].flags[key]) {
      const value = inline ?? rest[++i];
      if (value === undefined || value.startsWith('--'))
        return refuse(verb, `\`--${key}\` needs a value.`);
      // A label may be given again: each adds to the ones before.
      const before = flags.get(key);
      const joins = (key === 'label' || key === 'where') && typeof before === 'string';
      flags.set(key, joins ? `${before},${value}` : value);
    } else {
      if (inline !== undefined) return refuse(verb, `\`--${key}\` takes no value.`);
      flags.set(key, true);
    }
  }
  return build(verb, positionals, flags);
}

function build(verb: Verb, positionals: string[], flags: Map<string, string | true>): Result {
  if (isBatchVerb(verb) && ['label', 'confirm', 'cancel'].some((f) => flags.has(f))) {
    const batch = batchOf(verb, positionals, flags);
    return 'message' in batch ? refuse(verb, batch.message) : batch;
  }
  let name: EnvName | undefined;
  if (SPECS[verb].needsName) {
    const raw = positionals.shift();
    if (raw === undefined) return refuse(verb, `\`/env ${verb}\` needs an environment name.`);
    const check = checkEnvName(raw);
    if (!check.ok) return refuse(verb, `${capitalise(check.reason)}.`);
    name = check.name;
  }
  switch (verb) {
    case 'create': {
      const positional = positionals.shift();
      const flag = flags.get('provider');
      const chosen = [positional, typeof flag === 'string' ? flag : undefined].filter(
        (p): p is string => p !== undefined,
      );
      for (const p of chosen)
        if (!isProviderName(p))
          return refuse(verb, `Provider \`${clip(p)}\` is not supported; use \`k3d\` or \`kind\`.`);
      if (chosen.length === 2 && chosen[0] !== chosen[1])
        return refuse(
          verb,
          `Two different providers given (\`${chosen[0]}\` and \`${chosen[1]}\`); give one.`,
        );
      const extra = extraArgs(verb, positionals);
      if (extra) return extra;
      const ttl = flags.get('ttl');
      let ttlMs: number | null | undefined;
      if (typeof ttl === 'string') {
        const parsed = parseDuration(ttl);
        if (!parsed.ok) return refuse(verb, `${capitalise(parsed.reason)}.`);
        ttlMs = parsed.ms;
      }
      const provider = (chosen[0] ?? DEFAULT_PROVIDER) as ProviderName;
      const tooLong = checkDerivedNames(name as string, provider);
      if (tooLong) return refuse(verb, `${capitalise(tooLong)}.`);
      const nodes = nodeCounts(flags);
      if ('message' in nodes) return refuse(verb, nodes.message);
      const labels = labelSet(flags);
      if ('message' in labels) return refuse(verb, labels.message);
      const place = placeFlags(flags);
      if ('message' in place) return refuse(verb, place.message);
      return {
        command: {
          verb,
          name: name as EnvName,
          provider,
          ...place,
          ...(labels.labels ? { labels: labels.labels } : {}),
          registerPortainer: !flags.has('no-portainer'),
          haproxyRoute: !flags.has('no-haproxy'),
          ...(ttlMs !== undefined ? { ttlMs } : {}),
          ...nodes,
        },
      };
    }
    case 'update': {
      const extra = extraArgs(verb, positionals);
      if (extra) return extra;
      const patch = updatePatch(name as EnvName, flags);
      if ('message' in patch) return refuse(verb, patch.message);
      return {
        command: { verb, name: name as EnvName, patch: patch.patch, confirm: flags.has('confirm') },
      };
    }
    case 'rollback': {
      const raw = positionals.shift();
      const extra = extraArgs(verb, positionals);
      if (extra) return extra;
      const version = versionArg(raw);
      if (version === undefined)
        return refuse(verb, `\`${clip(raw ?? '')}\` is not a version number (1, 2, …).`);
      return {
        command: { verb, name: name as EnvName, version, confirm: flags.has('confirm') },
      };
    }
    case 'extend': {
      const raw = positionals.shift();
      const extra = extraArgs(verb, positionals);
      if (extra) return extra;
      if (raw === undefined)
        return { command: { verb, name: name as EnvName, durationMs: DEFAULT_EXTEND_MS } };
      const parsed = parseDuration(raw);
      if (!parsed.ok) return refuse(verb, `${capitalise(parsed.reason)}.`);
      return { command: { verb, name: name as EnvName, durationMs: parsed.ms } };
    }
    case 'help': {
      const topic = positionals.shift();
      const extra = extraArgs(verb, positionals);
      if (extra) return extra;
      if (topic === undefined) return { command: { verb } };
      const known = VERBS.find((v) => v === topic);
      if (!known) return refuse(verb, `There is no command \`${clip(topic)}\`.`);
      return { command: { verb, topic: known } };
    }
    case 'sync':
    case 'prune': {
      const names: EnvName[] = [];
      for (const raw of positionals) {
        const check = checkEnvName(raw);
        if (!check.ok) return refuse(verb, `${capitalise(check.reason)}.`);
        names.push(check.name);
      }
      const more = names.length ? { names } : {};
      if (verb === 'sync') return { command: { verb, ...more } };
      const confirm = flags.get('confirm');
      if (typeof confirm === 'string' && names.length)
        return refuse(verb, 'A confirmation carries out its preview as it was: give no names.');
      return { command: { verb, confirm: typeof confirm === 'string' ? confirm : null, ...more } };
    }
    case 'list': {
      const labels = labelSet(flags);
      if ('message' in labels) return refuse(verb, labels.message);
      return (
        extraArgs(verb, positionals) ?? {
          command: { verb, ...(labels.labels ? { labels: labels.labels } : {}) },
        }
      );
    }
    case 'check':
      return extraArgs(verb, positionals) ?? { command: { verb } };
    default:
      return (
        extraArgs(verb, positionals) ?? { command: { verb, name: name as EnvName } as Command }
      );
  }
}

function extraArgs(verb: Verb, positionals: string[]): { message: string } | null {
  return positionals.length > 0
    ? refuse(verb, `Unexpected \`${clip(positionals[0] as string)}\`.`)
    : null;
}

const refuse = (verb: Verb, message: string) => ({ message: `${message} ${usageHint(verb)}` });
