// What the outcomes that are not operations say (an operation is told by its own reports), in the
// same words on every surface: a comment marks names and commands as code, the terminal quotes
// names and shows commands bare.
import { spell, type Surface } from '../domain/index.js';
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
