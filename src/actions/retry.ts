// `retry <name>`: the environment's last failed or cancelled operation queued again; its done
// steps stay done.
import type { CommandOf } from '../commands/verbs.js';
import type { ActionContext } from './context.js';
import type { OperationOutcome } from './outcome.js';

export async function retry(
  command: CommandOf<'retry'>,
  ctx: Pick<ActionContext, 'engine' | 'trigger'>,
): Promise<OperationOutcome> {
  return { verb: 'retry', operation: await ctx.engine.retry(command.name, ctx.trigger) };
}
