// What a person can do next, as a value. Each surface spells it its own way — `/env retry dev` in
// a comment, `kindler retry dev` in a terminal — and a command outside kindler (`k3d cluster start
// dev`) the same everywhere. Nothing rewrites one surface's spelling into another's.
import { z } from 'zod';

export const NextCommandSchema = z.union([
  z.object({
    /** A kindler verb and its arguments. */
    verb: z.string(),
    args: z.array(z.string()).readonly(),
    /** A command outside kindler to run first (`k3d cluster delete dev`). */
    first: z.string().optional(),
  }),
  z.object({ shell: z.string() }),
]);
export type NextCommand = z.output<typeof NextCommandSchema>;

export type Surface = 'comment' | 'cli';

export const command = (verb: string, ...args: string[]): NextCommand => ({ verb, args });
export const afterShell = (first: string, then: NextCommand): NextCommand =>
  'shell' in then ? { shell: `${first} && ${then.shell}` } : { ...then, first };
export const shell = (text: string): NextCommand => ({ shell: text });

/** Verbs that, in a comment, act on the whole consistency report: they take no names there. */
const WHOLE_REPORT_IN_COMMENTS = ['sync', 'prune'];

export function spell(next: NextCommand, surface: Surface): string {
  if ('shell' in next) return next.shell;
  const args =
    surface === 'comment' && WHOLE_REPORT_IN_COMMENTS.includes(next.verb)
      ? next.args.filter((a) => a.startsWith('--'))
      : next.args;
  const own = [surface === 'cli' ? 'kindler' : '/env', next.verb, ...args].join(' ');
  return next.first ? `${next.first} && ${own}` : own;
}

/** A command stored spelled (before commands were values), or a value: the value. */
export function asNextCommand(stored: unknown): NextCommand | null {
  if (stored === null || stored === undefined || stored === '') return null;
  if (typeof stored === 'object') return NextCommandSchema.safeParse(stored).data ?? null;
  const text = String(stored);
  if (text.startsWith('{')) {
    try {
      return NextCommandSchema.safeParse(JSON.parse(text)).data ?? shell(text);
    } catch {
      return shell(text);
    }
  }
  const m = /^(?:(.*?) && )?(?:\/env|kindler) (\S+)((?: \S+)*)$/.exec(text);
  if (!m) return shell(text);
  const next = command(m[2]!, ...(m[3] ?? '').split(' ').filter(Boolean));
  return m[1] ? afterShell(m[1], next) : next;
}
