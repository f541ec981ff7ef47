// The exit codes, documented in docs/cli.md ("Exit codes"). Scripts may rely on them: change only
// with care. Kept apart from what maps errors to them, so that help loads nothing else.
export const EXIT = {
  ok: 0,
  /** The operation ran and a step failed (the row records which, and the fix). */
  failed: 1,
  /** Bad arguments or input: nothing was changed. */
  usage: 2,
  /** Refused: already exists, not found, busy, forbidden. Nothing was changed. */
  refused: 3,
  /**
   * The database is unreachable: read-only answers came from the CSV snapshot, mutations refused.
   */
  degraded: 4,
  /** `check` found differences. */
  inconsistent: 5,
  /** The operation was cancelled. */
  cancelled: 6,
  /** Nothing to do (retry of an operation that succeeded): nothing was changed. */
  nothing: 7,
  /** A bug or an unexpected error: the message says what, the log has the rest. */
  internal: 70,
} as const;
