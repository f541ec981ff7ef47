// `status <name>`: the environment and its last operation (one may outlive the other: a deleted
// environment's last operation is still told).
import type { CommandOf } from '../commands/verbs.js';
import { keptHealth } from '../consistency/health.js';
import {
  notFound,
  type Environment,
  type EnvironmentHealth,
  type Operation,
} from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface StatusOutcome {
  verb: 'status';
  environment: Environment | null;
  operation: Operation | null;
  health: EnvironmentHealth | null;
}

export async function status(
  command: CommandOf<'status'>,
  ctx: Pick<ActionContext, 'store'>,
): Promise<StatusOutcome> {
  const environment = await ctx.store.getEnvironment(command.name);
  const operation = await ctx.store.latestOperation(command.name);
  if (!environment && !operation) throw notFound(command.name);
  const health = environment
    ? ((await keptHealth(ctx.store, [environment.name]))[environment.name] ?? null)
    : null;
  return { verb: 'status', environment, operation, health };
}
