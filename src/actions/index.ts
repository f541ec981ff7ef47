// Every verb, once. A surface (a comment, the console and its API, the CLI, a check run's button)
// parses what it was given into a Command, authorises it (authorize.ts), calls `perform`, and
// renders the Outcome for its medium. Adding a verb: its action here, its Command variant and
// parser entry (commands/), its renderers beside each surface.
import type { CommandOf, SingleCommand, Verb } from '../commands/verbs.js';
import { cancel } from './cancel.js';
import { check } from './check.js';
import type { ActionContext } from './context.js';
import { extend } from './extend.js';
import { help } from './help.js';
import { history } from './history.js';
import { list } from './list.js';
import type { Outcome, OutcomeOf } from './outcome.js';
import { prune } from './prune.js';
import { record } from './record.js';
import { retry } from './retry.js';
import { rollback } from './rollback.js';
import { status } from './status.js';
import { sync } from './sync.js';
import { update } from './update.js';

type Action<V extends Verb> = (command: CommandOf<V>, ctx: ActionContext) => Promise<Outcome>;

const ACTIONS: { [V in Verb]: Action<V> } = {
  create: record,
  delete: record,
  stop: record,
  start: record,
  retry,
  cancel,
  extend,
  update,
  rollback,
  history,
  list,
  status,
  check,
  sync,
  prune,
  help,
};

/** Runs the command's action. Throws Failure (refusals) as the engine does; returns values. */
export function perform<C extends SingleCommand>(
  command: C,
  ctx: ActionContext,
): Promise<OutcomeOf<C['verb']>> {
  const action = ACTIONS[command.verb] as Action<C['verb']>;
  // Each action returns the outcome of its own verb (its file's return type says which).
  return action(command as never, ctx) as Promise<OutcomeOf<C['verb']>>;
}

export { LIMITS, contextOf, type ActionContext, type ActionRuntime } from './context.js';
export {
  isOperationOutcome,
  type Outcome,
  type OutcomeOf,
  type OperationOutcome,
} from './outcome.js';
export { openPreview, type PruneOutcome, type PrunePreview } from './prune.js';
export { batch, type BatchOutcome } from './batch.js';
export { authorize, judgedAs, type Decide } from './authorize.js';
