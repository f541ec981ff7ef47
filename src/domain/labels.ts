// An environment's labels (`team=a`): Kubernetes' label syntax, a bounded number of them, written
// canonically (`team=a,tier=web`, keys sorted) where a version records them and where they are
// compared. A selector (`--label team=a`, `?label=team=a`) asks for every label it names. Pure.

/** Labels one environment may carry: a principal's labels are bounded like its environments. */
export const MAX_LABELS = 10;

// Kubernetes: a name segment of at most 63 characters, alphanumeric at both ends; a key may have
// a DNS-subdomain prefix (`example.com/team`); a value is a name segment or empty.
const SEGMENT = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const shown = (s: string) => JSON.stringify(s.length > 70 ? `${s.slice(0, 67)}...` : s);

/** Why `key` is not a label key, or null. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [null, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== null && (prefix.length > 253 || !PREFIX.test(prefix)))
    return `label key ${shown(key)}: its prefix must be a DNS subdomain (example.com)`;
  if (!SEGMENT.test(name))
    return (
      `label key ${shown(key)} must be at most 63 letters, digits, "-", "_" or ".", starting ` +
      'and ending with a letter or digit'
    );
  return null;
}

/** Why `value` is not a label value, or null. */
export function labelValueProblem(key: string, value: string): string | null {
  return value === '' || SEGMENT.test(value)
    ? null
    : `label ${key}: the value ${shown(value)} must be empty or at most 63 letters, digits, "-", ` +
        '"_" or ".", starting and ending with a letter or digit';
}

/**
 * `k=v` words (each may hold several, comma-separated) as labels; `k-` removes `k` when
 * `removals` are allowed (an update). A key given twice with two values is refused.
 */
export function parseLabels(
  words: readonly string[],
  options: { removals?: boolean } = {},
): { labels: Record<string, string | null> } | { message: string } {
  const labels: Record<string, string | null> = {};
  for (const item of words.flatMap((w) => w.split(',')).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const removal = eq < 0 && item.endsWith('-') && options.removals === true;
    if (eq < 0 && !removal) {
      const or = options.removals ? ' (or key- to remove it)' : '';
      return { message: `label ${shown(item)} must be key=value${or}` };
    }
    const key = removal ? item.slice(0, -1) : item.slice(0, eq);
    const value = removal ? null : item.slice(eq + 1);
    const problem = labelKeyProblem(key) ?? (value === null ? null : labelValueProblem(key, value));
    if (problem) return { message: problem };
    if (key in labels && labels[key] !== value)
      return { message: `label ${key} is given twice with different values` };
    labels[key] = value;
  }
  return { labels };
}

/** `base` with `change` applied (null removes), refused past MAX_LABELS. */
export function withLabels(
  base: Record<string, string>,
  change: Record<string, string | null>,
): { labels: Record<string, string> } | { message: string } {
  const out: Record<string, string> = { ...base };
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  const count = Object.keys(out).length;
  return count > MAX_LABELS
    ? { message: `an environment carries at most ${MAX_LABELS} labels (this would be ${count})` }
    : { labels: out };
}

/** Labels as one canonical text, keys sorted: `team=a,tier=web` ('' for none). */
export const labelsText = (labels: Record<string, string>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

/** The labels a canonical text stands for (what a version recorded). */
export function labelsFromText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',').filter(Boolean)) {
    const eq = item.indexOf('=');
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Whether `labels` has every label `selector` asks for. */
export const matchesLabels = (
  labels: Record<string, string>,
  selector: Record<string, string>,
): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Why a set of labels cannot be carried (a bad key or value, or too many), or null. */
export function labelsProblem(labels: Record<string, string>): string | null {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) return `at most ${MAX_LABELS} labels (${entries.length} given)`;
  for (const [key, value] of entries) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem) return problem;
  }
  return null;
}
