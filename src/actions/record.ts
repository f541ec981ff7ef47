// `create`, `delete`, `stop` and `start`: each is the engine's request of that kind, recorded as a
// queued operation (the engine refuses what is taken, busy, too long or reserved, and changes
// nothing then). What differs between them lives in the engine and the steps, not here.
import type { CommandOf } from '../commands/verbs.js';
import { requestOf } from '../lifecycle/engine-api.js';
import type { ActionContext } from './context.js';
import type { OperationOutcome } from './outcome.js';

export async function record(
  command: CommandOf<'create' | 'delete' | 'stop' | 'start'>,
  ctx: Pick<ActionContext, 'engine' | 'trigger'>,
): Promise<OperationOutcome> {
  const operation = await ctx.engine.request(requestOf(command, ctx.trigger));
  return { verb: command.verb, operation };
}
