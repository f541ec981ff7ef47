// A lifecycle step that touches one outside system. Every step is a reconcile (STYLE.md rule 3):
// `check` looks and never touches; `ensure` is safe to repeat after a crash; `remove` succeeds
// when the thing is already gone. Implementations live next to their adapters (git/, providers/,
// registrars/); the engine only sees this interface.
import type { EnvName, Environment, StepName } from '../domain/index.js';

export type SystemStep = Exclude<StepName, 'record' | 'ready'>;

export interface Presence {
  state: 'present' | 'absent' | 'drift';
  /** One line a person can read: "branch dev at 1a2b3c4", "route missing", "ports 18090/18443 ≠ 18091/18443". */
  detail?: string;
}

export interface StepContext {
  env: Environment;
  /** Appends a line to the operation's log excerpt (already redacted by the engine). */
  log(line: string): void;
  /** Aborted when the operation is cancelled or the worker shuts down. */
  signal: AbortSignal;
}

/** What prune gives a step: a name no row claims, whose leftovers in this system go. */
export interface PruneContext {
  name: EnvName;
  /** Where a branch is kept before it is deleted (archive/<name>-<stamp>). */
  archiveAs: string;
  log(line: string): void;
  signal: AbortSignal;
}

export interface StepHandler {
  readonly step: SystemStep;
  /**
   * Why this step does not run for this environment — its system is not configured, or the row
   * disables it (register_portainer / haproxy_route false) — or null when it runs.
   */
  skipReason(env: Environment): string | null;
  check(env: Environment): Promise<Presence>;
  /** Makes the thing exist as the DB row says; returns a one-line detail ("created", "already present"). */
  ensure(ctx: StepContext): Promise<string>;
  /** Makes the thing absent; returns a one-line detail ("deleted", "already absent"). */
  remove(ctx: StepContext): Promise<string>;
  /** Removes what this system holds under a name no row claims (an orphan); like remove. */
  prune(ctx: PruneContext): Promise<string>;
}
