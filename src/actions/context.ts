// What every action is given, whatever surface asked: the engine and store to record through (a
// comment's are bound to the transaction that admits its delivery), the systems a consistency check
// reads, and who asks (the trigger, with its actor). The limits of one request live here, once.
import type { Decision } from '../commands/policy.js';
import type { Verb } from '../commands/verbs.js';
import type { CheckDeps } from '../consistency/check.js';
import type { Trigger } from '../domain/index.js';
import type { EngineApi } from '../lifecycle/engine-api.js';
import type { Engine } from '../lifecycle/engine.js';
import type { Store } from '../store/store.js';

export interface ActionContext {
  engine: Pick<EngineApi, 'request' | 'retry' | 'cancel'> & Pick<Engine, 'within'>;
  store: Store;
  /**
   * The systems a consistency check compares (the runtime's own object: checks are shared by it).
   */
  systems: CheckDeps;
  trigger: Trigger;
  now?: () => Date;
  /**
   * The asker's rights on one environment, for a command on many (a batch): the surface's judge
   * of a command with a name. Absent: the local operator, who may do everything.
   */
  judge?: (verb: Verb, envName: string) => Promise<Decision>;
}

export const LIMITS = {
  /** Operations one sync, one confirmed prune or one Sync button may record. */
  repairsPerRequest: 10,
  /** How long a prune preview can be confirmed. */
  prunePreviewMs: 3_600_000,
  /** Environments one batch (`delete --label …`) may hold. */
  batchMax: 100,
} as const;

/** What a surface holds to build an ActionContext: the runtime's engine and the checked systems. */
export interface ActionRuntime extends CheckDeps {
  engine: Engine;
}

/** The context of one request from `trigger`, on the runtime's own engine and store. */
export const contextOf = (rt: ActionRuntime, trigger: Trigger): ActionContext => ({
  engine: rt.engine,
  store: rt.store,
  systems: rt,
  trigger,
});
