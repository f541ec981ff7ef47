// `list`: every environment, in the order they were made.
import { keptHealth } from '../consistency/health.js';
import type { Environment, EnvironmentHealth } from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface ListOutcome {
  verb: 'list';
  environments: Environment[];
  /** Each environment's health, as the reconcile loop last saw it (by name). */
  health: Record<string, EnvironmentHealth>;
}

export async function list(
  _command: unknown,
  ctx: Pick<ActionContext, 'store'>,
): Promise<ListOutcome> {
  const [environments, health] = await Promise.all([
    ctx.store.listEnvironments(),
    keptHealth(ctx.store),
  ]);
  return { verb: 'list', environments, health };
}
