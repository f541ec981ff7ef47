// What an action returns: values, never text. Each surface renders them for its medium.
import type { OfVerb } from '../commands/verbs.js';
import type { Operation } from '../domain/index.js';
import type { CancelOutcome } from './cancel.js';
import type { CheckOutcome } from './check.js';
import type { ExtendOutcome } from './extend.js';
import type { HelpOutcome } from './help.js';
import type { HistoryOutcome } from './history.js';
import type { ListOutcome } from './list.js';
import type { PruneOutcome } from './prune.js';
import type { StatusOutcome } from './status.js';
import type { SyncOutcome } from './sync.js';

/** An operation recorded (create, delete, stop, start, update, rollback) or queued again. */
export interface OperationOutcome {
  verb: 'create' | 'delete' | 'stop' | 'start' | 'retry' | 'update' | 'rollback';
  operation: Operation;
}

const OPERATION_VERBS: readonly string[] = [
  'create',
  'delete',
  'stop',
  'start',
  'retry',
  'update',
  'rollback',
];

/** Whether the outcome is an operation recorded or queued again (told by its own reports). */
export const isOperationOutcome = (outcome: Outcome): outcome is OperationOutcome =>
  OPERATION_VERBS.includes(outcome.verb);

export type Outcome =
  | OperationOutcome
  | CancelOutcome
  | ExtendOutcome
  | ListOutcome
  | StatusOutcome
  | CheckOutcome
  | SyncOutcome
  | PruneOutcome
  | HistoryOutcome
  | HelpOutcome;

export type OutcomeOf<V extends Outcome['verb']> = OfVerb<Outcome, V>;
