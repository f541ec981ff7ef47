// Keeps an operation's status comment and check run current while it runs, through the outbox:
// progress edits are spaced (GitHub's secondary limits), the final state is always written, and a 🚀
// or 😕 lands on the comment that asked for it. What is written is the operation as it is when it
// is written (see outbox.ts), so a throttled update loses nothing.
import { isFinished, messageOf, type Operation } from '../domain/index.js';
import type { LogFn } from '../system/log.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import type { Outbox } from './outbox.js';
import type { GitHubClient } from './types.js';

export function operationReporter(
  outbox: Outbox,
  options: { minIntervalMs?: number; client?: GitHubClient; log?: LogFn } = {},
): OperationObserver & { flush(): Promise<void> } {
  // Progress edits are the writes an operation can spare (GitHub counts every one): at most one
  // per object every 10 s, the first one 10 s after the worker took it (the comment and check
  // run were just written, queued), the final state always and at once. An operation that ends
  // within 10 s costs its creation and its end only.
  const interval = options.minIntervalMs ?? 10_000;
  let last = Date.now();
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  /** The newest state seen; a report renders whatever the operation is when it is sent. */
  let latest: Operation | null = null;
  /** A report is waiting in the chain: later updates ride on it instead of adding more. */
  let waiting = false;

  const write = () => {
    last = Date.now(); // at once, so updates arriving before this write runs are throttled too
    if (waiting) return;
    waiting = true;
    chain = chain
      .then(() => {
        waiting = false;
        const op = latest as Operation;
        return outbox.report(op, options.client);
      })
      // GitHub's answers are the outbox's to record; this is the database failing under it.
      .catch((error: unknown) =>
        options.log?.('warn', 'could not record the report', {
          operation: latest?.id,
          error: messageOf(error),
        }),
      );
  };

  // Never awaited by the engine: GitHub paces writes (about one a second per installation), and
  // an operation's steps must not wait for its comment. flush() waits for what is in flight.
  return {
    onUpdate(op) {
      latest = op;
      if (timer) clearTimeout(timer);
      timer = null;
      const wait = last + interval - Date.now();
      if (isFinished(op.status) || wait <= 0) write();
      else
        timer = setTimeout(() => {
          timer = null;
          write();
        }, wait);
    },
    flush: async () => {
      if (timer) {
        clearTimeout(timer);
        timer = null;
        write();
      }
      await chain;
    },
  };
}
