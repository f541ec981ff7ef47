// Environment names are DNS-1123 labels and Git branch names at once; one parser decides, with a
// precise reason for every refusal. Branded so the rest of the code cannot skip it.

export type EnvName = string & { readonly __brand: 'EnvName' };

/** Branches the bot never creates, changes or deletes; `devops` is the management cluster. */
export const RESERVED_NAMES: readonly string[] = ['main', 'master', 'develop', 'release', 'devops'];
export const ARCHIVE_PREFIX = 'archive/';
export const MANAGEMENT_CLUSTER = 'devops';
export const MAX_NAME_LENGTH = 63;

export type NameCheck = { ok: true; name: EnvName } | { ok: false; reason: string };

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function checkEnvName(input: string): NameCheck {
  const raw = input;
  if (raw.length === 0) return { ok: false, reason: 'the environment name is empty' };
  if (raw.startsWith(ARCHIVE_PREFIX)) {
    return {
      ok: false,
      reason: `"${show(raw)}" is under ${ARCHIVE_PREFIX}, which holds archived branches`,
    };
  }
  if (raw.length > MAX_NAME_LENGTH) {
    return {
      ok: false,
      reason: `"${show(raw)}" is ${raw.length} characters long; the limit is ${MAX_NAME_LENGTH}`,
    };
  }
  if (/[A-Z]/.test(raw)) {
    return {
      ok: false,
      reason: `"${show(raw)}" has upper-case letters; use lower case ("${raw.toLowerCase()}")`,
    };
  }
  if (!LABEL.test(raw)) {
    const why = /^-|-$/.test(raw)
      ? 'must start and end with a letter or digit'
      : 'may contain only lower-case letters, digits and "-"';
    return {
      ok: false,
      reason: `"${show(raw)}" is not a valid name: it ${why} (a DNS label, 1–63 characters)`,
    };
  }
  if (RESERVED_NAMES.includes(raw)) {
    return {
      ok: false,
      reason: `"${raw}" is reserved (${RESERVED_NAMES.join(', ')}) and is never an environment`,
    };
  }
  return { ok: true, name: raw as EnvName };
}

/** For trusted sources (database rows, derived names); throws when the invariant is broken. */
export function envName(input: string): EnvName {
  const check = checkEnvName(input);
  if (!check.ok) throw new TypeError(check.reason);
  return check.name;
}

export function isReservedBranch(branch: string): boolean {
  return RESERVED_NAMES.includes(branch) || branch.startsWith(ARCHIVE_PREFIX);
}

// Names echoed back into public comments are cut short and stripped of control characters.
function show(raw: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 70 ? `${clean.slice(0, 67)}...` : clean;
}
