// `sync [name…]`: a sync operation for each environment whose systems lack what its row implies
// (at most LIMITS.repairsPerRequest); sync deletes nothing.
import type { CommandOf } from '../commands/verbs.js';
import { requestSyncs, type RepairPlan } from '../consistency/repair.js';
import { LIMITS, type ActionContext } from './context.js';

export interface SyncOutcome extends RepairPlan {
  verb: 'sync';
}

export async function sync(
  command: CommandOf<'sync'>,
  ctx: Pick<ActionContext, 'engine' | 'systems' | 'trigger'>,
): Promise<SyncOutcome> {
  const plan = await requestSyncs(
    { ...ctx.systems, engine: ctx.engine },
    {
      ...(command.names?.length ? { names: command.names } : {}),
      trigger: ctx.trigger,
      limit: LIMITS.repairsPerRequest,
    },
  );
  return { verb: 'sync', ...plan };
}
