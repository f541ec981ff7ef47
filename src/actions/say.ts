// What the outcomes that are not operations say (an operation is told by its own reports), in the
// same words on every surface: a comment marks names and commands as code, the terminal quotes
// names and shows commands bare.
import { formatDuration } from '../commands/duration.js';
import { labelsText, spell, type Surface } from '../domain/index.js';
import type { BatchItem } from '../store/batches.js';
import type { BatchOutcome } from './batch.js';
import type { CancelOutcome } from './cancel.js';
import type { ExtendOutcome } from './extend.js';

/** A name as the surface marks it. */
const NAME: Record<Surface, (text: string) => string> = {
  comment: (text) => `\`${text}\``,
  cli: (text) => `"${text}"`,
};
/** A command as the surface shows one to copy: a code span, or bare on a terminal. */
const COMMAND: Record<Surface, (text: string) => string> = {
  comment: (text) => `\`${text}\``,
  cli: (text) => text,
};

/** A cancel: stopped now (with how to resume), or asked to stop after the step running. */
export function sayCancel({ operation: op, stopped }: CancelOutcome, surface: Surface): string {
  const which = `${op.kind} #${op.id} of ${NAME[surface](op.envName)}`;
  if (!stopped)
    return (
      `Asked ${which} to stop; it stops after the step now running ` +
      `(${op.currentStep ?? 'starting'}).`
    );
  const resume = op.fixCommand
    ? ` To resume it: ${COMMAND[surface](spell(op.fixCommand, surface))}`
    : '';
  return `Cancelled ${which}: ${op.error ?? 'cancelled'}.${resume}`;
}

/** An extend: the new expiry, or that it no longer expires. */
export function sayExtend({ environment: env }: ExtendOutcome, surface: Surface): string {
  const name = NAME[surface](env.name);
  return env.expiresAt
    ? `${name} now expires ${env.expiresAt.toISOString()}.`
    : `${name} no longer expires.`;
}

/** What a batch's line says of one environment: its outcome, and why or which operation. */
const itemText = (item: BatchItem, escape: (text: string) => string): string =>
  `${item.outcome}${item.detail ? `: ${escape(item.detail)}` : ''}`;

/**
 * A batch: the environments its labels selected and what becomes of each, with the command that
 * carries a preview out. `escape` makes a detail safe for the medium (a comment's markdown).
 */
export function sayBatch(
  outcome: BatchOutcome,
  surface: Surface,
  escape: (text: string) => string = (text) => text,
): string {
  const { of: verb, items, id } = outcome;
  const labels = NAME[surface](labelsText(outcome.labels));
  const by =
    verb === 'extend'
      ? ` by ${outcome.durationMs === null ? 'never' : formatDuration(outcome.durationMs)}`
      : '';
  if (items.length === 0) return `No environment carries ${labels}; nothing to ${verb}.`;
  const planned = items.filter((i) => i.outcome === 'planned').length;
  const head = outcome.cancelled
    ? `Batch ${id} cancelled: ${verb}${by} on the environments carrying ${labels}:`
    : !outcome.confirmed
      ? id
        ? `Batch ${id}: ${verb}${by} ${planned} of the ${items.length} environments carrying ` +
          `${labels}${verb === 'extend' ? '' : `, at most ${outcome.parallel} at a time`}:`
        : `None of the ${items.length} environments carrying ${labels} is yours to ${verb}; ` +
          'nothing was kept:'
      : `Batch ${id} carried out: ${verb}${by} on the environments carrying ${labels}` +
        `${verb === 'extend' ? '' : `, at most ${outcome.parallel} at a time`}:`;
  const width = Math.max(...items.map((i) => i.name.length));
  const rows =
    surface === 'comment'
      ? [
          '| environment | outcome |',
          '|---|---|',
          ...items.map((i) => `| ${NAME.comment(i.name)} | ${itemText(i, escape)} |`),
        ]
      : items.map((i) => `  ${i.name.padEnd(width)}  ${itemText(i, escape)}`);
  const idWith = (flag: string) =>
    COMMAND[surface](spell({ verb, args: [flag, id ?? ''] }, surface));
  const tail = outcome.cancelled
    ? 'What had not started will not; what was running stops after its current step.'
    : !outcome.confirmed
      ? id && outcome.expiresAt
        ? `To carry it out: ${idWith('--confirm')} before ` +
          `${outcome.expiresAt.toISOString()}. Only the environments planned here are touched.`
        : null
      : verb === 'extend'
        ? null
        : (surface === 'comment'
            ? 'Each is an operation of its own: its status comment and check run follow it; the ' +
              'next starts as one ends.'
            : `Each is an operation of its own; follow them with ${COMMAND.cli('kindler list')}.`) +
          ` To stop what is left: ${idWith('--cancel')}.`;
  return [head, '', ...rows, ...(tail ? ['', tail] : [])].join('\n');
}
