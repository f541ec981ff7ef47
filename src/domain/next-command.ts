// What a person can do next, as a value. Each surface spells it its own way — `/env retry dev` in
// a comment, `kindler retry dev` in a terminal — and a command outside kindler (`k3d cluster start
// dev`) the same everywhere. Nothing rewrites one surface's spelling into another's.
// (No schema library here: the domain loads nothing, so `kindler --help` and a refused command
// stay at Node's own floor; a stored value is checked by `parseNextCommand`.)

export type NextCommand =
  | {
      /** A kindler verb and its arguments. */
      verb: string;
      args: readonly string[];
      /** A command outside kindler to run first (`k3d cluster delete dev`). */
      first?: string;
    }
  | { shell: string };

/** A stored value read back as a next command, or null when it is not one. */
export function parseNextCommand(value: unknown): NextCommand | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.shell === 'string') return { shell: v.shell };
  if (
    typeof v.verb !== 'string' ||
    !Array.isArray(v.args) ||
    !v.args.every((a) => typeof a === 'string') ||
    (v.first !== undefined && typeof v.first !== 'string')
  )
    return null;
  return {
    verb: v.verb,
    args: v.args as string[],
    ...(typeof v.first === 'string' ? { first: v.first } : {}),
  };
}

export type Surface = 'comment' | 'cli';

export const command = (verb: string, ...args: string[]): NextCommand => ({ verb, args });
export const afterShell = (first: string, then: NextCommand): NextCommand =>
  'shell' in then ? { shell: `${first} && ${then.shell}` } : { ...then, first };
export const shell = (text: string): NextCommand => ({ shell: text });

export function spell(next: NextCommand, surface: Surface): string {
  if ('shell' in next) return next.shell;
  const own = [surface === 'cli' ? 'kindler' : '/env', next.verb, ...next.args].join(' ');
  return next.first ? `${next.first} && ${own}` : own;
}

/** A command stored spelled (before commands were values), or a value: the value. */
export function asNextCommand(stored: unknown): NextCommand | null {
  if (stored === null || stored === undefined || stored === '') return null;
  if (typeof stored === 'object') return parseNextCommand(stored);
  const text = String(stored);
  if (text.startsWith('{')) {
    try {
      return parseNextCommand(JSON.parse(text)) ?? shell(text);
    } catch {
      return shell(text);
    }
  }
  const m = /^(?:(.*?) && )?(?:\/env|kindler) (\S+)((?: \S+)*)$/.exec(text);
  if (!m) return shell(text);
  const next = command(m[2]!, ...(m[3] ?? '').split(' ').filter(Boolean));
  return m[1] ? afterShell(m[1], next) : next;
}
