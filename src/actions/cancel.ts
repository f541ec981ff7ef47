// `cancel <name>`: the running operation asked to stop after its step (a queued one, or one whose
// worker died, stops at once). Nothing to cancel is a refusal, an unknown name too.
import type { CommandOf } from '../commands/verbs.js';
import { Failure, notFound, type Operation } from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface CancelOutcome {
  verb: 'cancel';
  operation: Operation;
  /** Stopped already (queued, or its worker gone), or asked to stop after its step. */
  stopped: boolean;
}

export async function cancel(
  command: CommandOf<'cancel'>,
  ctx: Pick<ActionContext, 'engine' | 'store'>,
): Promise<CancelOutcome> {
  const operation = await ctx.engine.cancel(command.name);
  if (operation) return { verb: 'cancel', operation, stopped: operation.status === 'cancelled' };
  const known =
    (await ctx.store.getEnvironment(command.name)) ??
    (await ctx.store.latestOperation(command.name));
  if (!known) throw notFound(command.name);
  throw new Failure(
    'nothing_to_do',
    `nothing to cancel: "${command.name}" has no queued or running operation`,
  );
}
