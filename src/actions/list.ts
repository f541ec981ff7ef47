// `list`: every environment (or those carrying every label asked), in the order they were made.
import type { CommandOf } from '../commands/verbs.js';
import { keptHealth } from '../consistency/health.js';
import { matchesLabels, type Environment, type EnvironmentHealth } from '../domain/index.js';
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
  const [all, health] = await Promise.all([ctx.store.listEnvironments(), keptHealth(ctx.store)]);
  const selector = command.labels;
  const environments = selector ? all.filter((e) => matchesLabels(e.labels, selector)) : all;
  return { verb: 'list', environments, health, ...(selector ? { labels: selector } : {}) };
}
