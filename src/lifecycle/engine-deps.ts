// What the engine is built from: the store, the systems' step handlers and its settings.
import type { ProviderName, Redactor, Site, SiteState } from '../domain/index.js';
import type { Wanted } from './placement.js';
import type { Store } from '../store/store.js';
import type { StepRunnerDeps } from './run-steps.js';
import type { StepHandler, SystemStep } from './step.js';
import type { LogFn } from '../system/log.js';

export interface EngineDeps {
  store: Store;
  handlers: Record<SystemStep, StepHandler>;
  redactor?: Redactor;
  leaseMs?: number;
  /** Delays before retrying a step that failed with a TransientError. */
  retryDelaysMs?: number[];
  /** The `ready` step's probe (see StepRunnerDeps.ready). */
  ready?: StepRunnerDeps['ready'];
  /**
   * After every finished operation: refresh derived data (the CSV snapshot) — of the environment
   * named, or of everything. Errors are logged, not fatal.
   */
  afterChange?: (name?: string) => Promise<void>;
  /** Names starting with this belong to pull requests: only a pull request's label creates one. */
  pullRequestPrefix?: string;
  /** Why an environment of this provider cannot be made here (its CLIs missing), or null. */
  preflight?: (provider: ProviderName) => string | null;
  /**
   * The sites a create may be placed on, best first, each with its count and room (absent: the
   * local site alone, without a count of its own). Counted through `store`, the one the engine
   * records through (a comment's transaction: on PGlite its one connection).
   */
  place?: (wanted: Wanted, store: Store) => Promise<SiteState[]>;
  /** The sites declared (an update that grows an environment is checked against its site's). */
  sites?: readonly Site[];
  /** True when the worker named `owner` may still be running (CLI: same host and pid alive). */
  ownerAlive?: (owner: string) => boolean;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  log?: LogFn;
}
