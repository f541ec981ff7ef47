// `list`: every environment, in the order they were made.
import type { Environment } from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface ListOutcome {
  verb: 'list';
  environments: Environment[];
}

export async function list(
  _command: unknown,
  ctx: Pick<ActionContext, 'store'>,
): Promise<ListOutcome> {
  return { verb: 'list', environments: await ctx.store.listEnvironments() };
}
