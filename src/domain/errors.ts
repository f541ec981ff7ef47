// A Failure is an expected refusal (bad input, conflict, permission): shown verbatim with the next
// command, never retried. A TransientError is worth retrying. Anything else is a bug. One function,
// `classify`, decides by type — never by message text (docs/style.md rule 5).

import type { NextCommand } from './next-command.js';

export type FailureCode =
  | 'invalid_input'
  | 'already_exists'
  | 'not_found'
  | 'busy'
  | 'forbidden'
  | 'degraded'
  | 'not_configured'
  | 'cancelled'
  | 'step_failed'
  /** Nothing to do: there is nothing to retry, nothing was changed. */
  | 'nothing_to_do';

export class Failure extends Error {
  override readonly name = 'Failure';
  constructor(
    readonly code: FailureCode,
    message: string,
    /** The command that moves the user forward, when there is one (each surface spells it). */
    readonly fix?: NextCommand,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Our own database could not be reached (refused, restarting, the connection lost mid-query). Worth
 * retrying like any transient error; an operation it stops is handed back, never failed: the
 * environment did nothing wrong.
 */
export class DatabaseUnavailable extends TransientError {
  constructor(error: unknown) {
    super(`the database did not answer: ${messageOf(error)}`, { cause: error });
  }
}

/** Whether the database's absence is behind this error, however many times it was wrapped. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++)
    if (e instanceof DatabaseUnavailable) return true;
  return false;
}

export type ErrorClass = 'failure' | 'transient' | 'bug';

export function classify(error: unknown): ErrorClass {
  if (error instanceof Failure) return 'failure';
  if (error instanceof TransientError) return 'transient';
  return 'bug';
}

/** Adds what we were doing to an error, keeping the original as `cause` and its class. */
export function wrap(action: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : String(error);
  const message = `${action}: ${detail}`;
  if (error instanceof Failure)
    return new Failure(error.code, message, error.fix, { cause: error });
  if (error instanceof TransientError) return new TransientError(message, { cause: error });
  return new Error(message, { cause: error });
}

/** The HTTP status an error carries (Octokit's RequestError and the like), if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  if (!error || typeof error !== 'object' || !('status' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}

/** What went wrong, as text: an Error's message, an error-like object's, or a bounded dump. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    try {
      const text = JSON.stringify(error);
      if (text && text !== '{}') return text.length > 500 ? `${text.slice(0, 497)}...` : text;
    } catch {
      // circular or hostile: fall through
    }
    return `an error object with ${Object.keys(error).slice(0, 5).join(', ') || 'no fields'}`;
  }
  return String(error);
}
