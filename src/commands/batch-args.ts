// A batch's words, read alike by `/env`, the API and the CLI: `--label k=v…` (with extend's
// duration) previews the environments carrying every label; `--confirm <batch>` carries a preview
// out, as it was; `--cancel <batch>` stops what is left of one being carried out. Nothing is opened
// or loaded here: a refusal comes before anything is read.
import { parseDuration } from './duration.js';
import { capitalise, clip, labelSet } from './update-flags.js';
import type { BatchCommand, BatchVerb } from './verbs.js';

/** A batch preview's id, as prune's: 8 hex digits. */
export const BATCH_ID = /^[0-9a-f]{8}$/;

/** The batch command the words stand for, or why they are refused (without a usage line). */
export function batchOf(
  verb: BatchVerb,
  positionals: string[],
  flags: Map<string, string | true>,
): { command: BatchCommand } | { message: string } {
  for (const act of ['confirm', 'cancel'] as const) {
    const id = flags.get(act);
    if (flags.has(act) && typeof id !== 'string')
      return { message: `\`--${act}\` needs a batch id.` };
    if (typeof id !== 'string') continue;
    if (
      flags.has('label') ||
      positionals.length ||
      flags.has(act === 'confirm' ? 'cancel' : 'confirm')
    )
      return {
        message:
          act === 'confirm'
            ? 'A confirmation carries out its preview as it was: give nothing else.'
            : 'A cancel stops what is left of a batch: give its id and nothing else.',
      };
    if (!BATCH_ID.test(id))
      return { message: `\`${clip(id)}\` is not a batch id (the preview's 8 hex digits).` };
    return { command: { verb, batch: act === 'confirm' ? { confirm: id } : { cancel: id } } };
  }
  const labels = labelSet(flags);
  if ('message' in labels) return labels;
  if (!labels.labels || Object.keys(labels.labels).length === 0)
    return { message: '`--label` needs at least one key=value.' };
  const [first, ...extra] = positionals;
  const stray = verb === 'extend' ? extra[0] : first;
  if (stray !== undefined)
    return { message: `Give an environment's name or \`--label\`, not both (\`${clip(stray)}\`).` };
  if (verb !== 'extend') return { command: { verb, batch: { labels: labels.labels } } };
  const parsed = parseDuration(first ?? '24h');
  if (!parsed.ok) return { message: `${capitalise(parsed.reason)}.` };
  return { command: { verb, batch: { labels: labels.labels, durationMs: parsed.ms } } };
}
