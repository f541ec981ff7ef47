// `extend <name> [duration|never]`: a later expiry, from now or from the expiry ahead, whichever is
// later; `never` pins the environment (the expiry sweep leaves it alone).
import type { CommandOf } from '../commands/verbs.js';
import {
  configOf,
  extendedExpiry,
  notFound,
  versionBy,
  type Environment,
} from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface ExtendOutcome {
  verb: 'extend';
  environment: Environment;
}

export async function extend(
  command: CommandOf<'extend'>,
  ctx: Pick<ActionContext, 'store' | 'now' | 'trigger'>,
): Promise<ExtendOutcome> {
  const env = await ctx.store.getEnvironment(command.name);
  if (!env) throw notFound(command.name);
  const now = ctx.now?.() ?? new Date();
  const environment = await ctx.store.updateEnvironment(
    env.name,
    command.durationMs === null
      ? { expiresAt: null, pinned: true }
      : { expiresAt: extendedExpiry(env.expiresAt, command.durationMs, now) },
  );
  await ctx.store.versions.record(env.name, configOf(environment), versionBy(ctx.trigger, null));
  return { verb: 'extend', environment };
}
