// Documented in docs/cli.md ("Exit codes"). Scripts may rely on them: change only with care.
import {
  classify,
  isDatabaseUnavailable,
  type Failure,
  type FailureCode,
} from '../domain/index.js';
import { EXIT } from './exit-status.js';

export { EXIT };

const BY_FAILURE: Record<FailureCode, number> = {
  invalid_input: EXIT.usage,
  already_exists: EXIT.refused,
  not_found: EXIT.refused,
  busy: EXIT.refused,
  forbidden: EXIT.refused,
  degraded: EXIT.degraded,
  not_configured: EXIT.usage,
  cancelled: EXIT.cancelled,
  step_failed: EXIT.failed,
  nothing_to_do: EXIT.nothing,
};

export function exitCodeFor(error: unknown): number {
  // Our own database stopped answering: said as such, never as a bug.
  if (isDatabaseUnavailable(error)) return EXIT.degraded;
  if (classify(error) === 'failure') return BY_FAILURE[(error as Failure).code];
  return EXIT.internal;
}
