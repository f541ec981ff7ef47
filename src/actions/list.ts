// `list`: every environment (or those carrying every label asked), in the order they were made.
import type { CommandOf } from '../commands/verbs.js';
import { keptHealth } from '../consistency/health.js';
import type { Environment, EnvironmentHealth } from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface ListOutcome {
  verb: 'list';
  environments: Environment[];
  /** Each environment's health, as the reconcile loop last saw it (by name). */
  health: Record<string, EnvironmentHealth>;
  /** The labels asked for, when the list was filtered by them. */
  labels?: Record<string, string>;
}

export async function list(
  command: Partial<CommandOf<'list'>>,
  ctx: Pick<ActionContext, 'store'>,
): Promise<ListOutcome> {
  const selector = command.labels;
  // Those carrying every label are chosen by the database (its jsonb containment).
  const [environments, health] = await Promise.all([
    ctx.store.listEnvironments(selector),
    keptHealth(ctx.store),
  ]);
  return { verb: 'list', environments, health, ...(selector ? { labels: selector } : {}) };
}
