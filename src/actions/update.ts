// `update <name> [--ttl …] [--portainer|--no-portainer] [--haproxy|--no-haproxy] [--provider …]
// [--servers N] [--agents N] [--confirm]`: the engine's update request — the row and a version
// recorded, then only the steps the change needs. A recreation of the cluster needs --confirm.
import type { CommandOf } from '../commands/verbs.js';
import type { ActionContext } from './context.js';
import type { OperationOutcome } from './outcome.js';

export async function update(
  command: CommandOf<'update'>,
  ctx: Pick<ActionContext, 'engine' | 'trigger'>,
): Promise<OperationOutcome> {
  const operation = await ctx.engine.request({
    kind: 'update',
    name: command.name,
    patch: command.patch,
    confirm: command.confirm,
    trigger: ctx.trigger,
  });
  return { verb: 'update', operation };
}
