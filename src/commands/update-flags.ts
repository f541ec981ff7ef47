// The flags of an update (`/env update`, `kindler update`) read as the change they ask for, and a
// version number as typed: pure and light, so a CLI refuses a bad one before anything loads.
import {
  MAX_LABELS,
  checkDerivedNames,
  checkNodeCount,
  parseCpus,
  parseLabels,
  parseMemory,
  isProviderName,
  type ConfigPatch,
  type EnvName,
} from '../domain/index.js';
import { parseDuration } from './duration.js';

/** A version number as typed (`3` or `v3`); null when none is given, undefined when it is none. */
export function versionArg(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return null;
  const digits = /^v?(\d{1,9})$/.exec(raw)?.[1];
  return digits === undefined || Number(digits) === 0 ? undefined : Number(digits);
}

/** The nodes asked for: how many, and how big. */
export interface NodesAsked {
  servers?: number;
  agents?: number;
  nodeCpus?: number;
  nodeMemoryMib?: number;
}

/**
 * `--servers N --agents M`, each within NODE_LIMITS, and `--cpus N --memory 2g` per node, within
 * SIZE_LIMITS.
 */
export function nodeCounts(flags: Map<string, string | true>): NodesAsked | { message: string } {
  const counts: NodesAsked = {};
  for (const role of ['servers', 'agents'] as const) {
    const raw = flags.get(role);
    if (typeof raw !== 'string') continue;
    const refused = checkNodeCount(role, raw);
    if (refused) return { message: `${capitalise(refused)}.` };
    counts[role] = Number(raw);
  }
  const cpus = flags.get('cpus');
  if (typeof cpus === 'string') {
    const parsed = parseCpus(cpus);
    if ('message' in parsed) return { message: `\`--cpus\` takes ${plain(parsed.message)}.` };
    counts.nodeCpus = parsed.cpus;
  }
  const memory = flags.get('memory');
  if (typeof memory === 'string') {
    const parsed = parseMemory(memory);
    if ('message' in parsed) return { message: `\`--memory\` takes ${plain(parsed.message)}.` };
    counts.nodeMemoryMib = parsed.mib;
  }
  return counts;
}

/**
 * `--label` (its words joined by commas) as labels to set; with `removals`, `key-` as one to
 * remove. None given: `{}` without labels.
 */
export function labelFlag(
  flags: Map<string, string | true>,
  removals = false,
): { labels?: Record<string, string | null> } | { message: string } {
  const raw = flags.get('label');
  if (typeof raw !== 'string') return {};
  const parsed = parseLabels([raw], { removals });
  if ('message' in parsed) return { message: `${capitalise(parsed.message)}.` };
  const count = Object.keys(parsed.labels).length;
  if (count > MAX_LABELS) return { message: `At most ${MAX_LABELS} labels (${count} given).` };
  return { labels: parsed.labels };
}

/** `--label` as labels to carry (no removal: `key-` is refused). */
export const labelSet = (
  flags: Map<string, string | true>,
): { labels?: Record<string, string> } | { message: string } =>
  labelFlag(flags) as { labels?: Record<string, string> } | { message: string };

/** An update's flags as the change they ask for; a flag and its `--no-` form together refused. */
export function updatePatch(
  name: EnvName,
  flags: Map<string, string | true>,
): { patch: ConfigPatch } | { message: string } {
  const patch: ConfigPatch = {};
  for (const [flag, key] of [
    ['portainer', 'registerPortainer'],
    ['haproxy', 'haproxyRoute'],
  ] as const) {
    if (flags.has(flag) && flags.has(`no-${flag}`))
      return { message: `\`--${flag}\` and \`--no-${flag}\` contradict each other; give one.` };
    if (flags.has(flag)) patch[key] = true;
    if (flags.has(`no-${flag}`)) patch[key] = false;
  }
  const provider = flags.get('provider');
  if (typeof provider === 'string') {
    if (!isProviderName(provider))
      return {
        message: `Provider \`${clip(provider)}\` is not supported; use \`k3d\` or \`kind\`.`,
      };
    const tooLong = checkDerivedNames(name, provider);
    if (tooLong) return { message: `${capitalise(tooLong)}.` };
    patch.provider = provider;
  }
  const nodes = nodeCounts(flags);
  if ('message' in nodes) return nodes;
  Object.assign(patch, nodes);
  const labels = labelFlag(flags, true);
  if ('message' in labels) return labels;
  if (labels.labels) patch.labels = labels.labels;
  const ttl = flags.get('ttl');
  if (typeof ttl === 'string') {
    const parsed = parseDuration(ttl);
    if (!parsed.ok) return { message: `${capitalise(parsed.reason)}.` };
    patch.ttlMs = parsed.ms;
  }
  if (Object.keys(patch).length === 0)
    return {
      message:
        'Nothing to change: give --ttl, --portainer/--no-portainer, --haproxy/--no-haproxy, ' +
        '--provider, --servers, --agents, --cpus, --memory or --label.',
    };
  return { patch };
}

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
// Echoed input is cut short and loses characters that could break out of Markdown code spans.
// eslint-disable-next-line no-control-regex -- control characters are what we strip
const plain = (s: string) => s.replace(/[`\u0000-\u001f]/g, '');
export const clip = (s: string) => {
  const t = plain(s);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
};

/** `--site <site>` and `--where key=value…`: the site a create goes to, or labels it must carry. */
export function placeFlags(
  flags: Map<string, string | true>,
): { site?: string; where?: Record<string, string> } | { message: string } {
  const site = flags.get('site');
  if (typeof site === 'string' && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(site))
    return { message: `Site \`${clip(site)}\` is not a DNS label (a-z, 0-9 and -).` };
  const raw = flags.get('where');
  const where = typeof raw === 'string' ? parseLabels([raw]) : null;
  if (where && 'message' in where) return { message: `\`--where\`: ${where.message}.` };
  return {
    ...(typeof site === 'string' ? { site } : {}),
    ...(where ? { where: where.labels as Record<string, string> } : {}),
  };
}
