// Keeps an operation's status comment and check run current while it runs: edits are throttled (GitHub's
// secondary limits), the final state is always written, and a 🚀 or 😕 lands on the comment that
// asked for it.
import type { Environment, Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import { messageOf } from '../domain/index.js';
import { SUMMARY_LIMIT, checkRunState } from '../render/check-run.js';
import { publishable } from './publish.js';
import { renderStatusComment } from '../render/status-comment.js';
import type { Runtime } from '../runtime.js';
import { splitRepo, type GitHubClient } from './types.js';

const FINAL = ['success', 'failed', 'cancelled'];

/** Where a write GitHub refused or could not take is told (Probot's logger in the app). */
export type ReportLog = (
  fields: { err: unknown; operation: number; write: string },
  message: string,
) => void;

export function commentReporter(
  octokit: GitHubClient,
  rt: Runtime,
  options: { minIntervalMs?: number; log?: ReportLog; retryDelaysMs?: number[] } = {},
): OperationObserver & { flush(): Promise<void> } {
  const interval = options.minIntervalMs ?? 2_000;
  const log: ReportLog = options.log ?? ((fields, message) => rt.log.warn(fields, message));
  const delays = options.retryDelaysMs ?? [1_000, 4_000];
  // A write that fails for a passing reason (5xx, 429, the network) is tried again; a refusal
  // (4xx) is not. Either way it is logged with its cause, never swallowed.
  const attempt = async (op: Operation, what: string, send: () => Promise<unknown>) => {
    for (let i = 0; ; i++) {
      try {
        await send();
        return;
      } catch (error) {
        const status = (error as { status?: number }).status;
        const transient = status === undefined || status >= 500 || status === 429;
        const again = transient && i < delays.length;
        log(
          { err: rt.redactor.redact(messageOf(error)), operation: op.id, write: what },
          again
            ? `GitHub did not take the ${what} (${status ?? 'no answer'}); trying again`
            : `GitHub refused the ${what} (${status ?? 'no answer'}); it stays as it was`,
        );
        if (!again) return;
        await new Promise((r) => setTimeout(r, delays[i]));
      }
    }
  };
  let last = 0;
  let pending: { op: Operation; env: Environment | null } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<unknown> = Promise.resolve();

  const write = (op: Operation, env: Environment | null) => {
    last = Date.now(); // at once, so updates arriving before this write runs are throttled too
    chain = chain
      .then(async () => {
        if (!op.trigger.repo) return;
        const repo = splitRepo(op.trigger.repo);
        const commentId = op.commentId;
        if (commentId)
          await attempt(op, 'status comment', () =>
            octokit.rest.issues.updateComment({
              ...repo,
              comment_id: commentId,
              body: publishable(rt, renderStatusComment(op, env, rt.urls)),
            }),
          );
        if (op.checkRunId) {
          const checkRunId = op.checkRunId;
          const state = checkRunState(op, env, rt.urls);
          await attempt(op, 'check run', () =>
            octokit.rest.checks.update({
              ...repo,
              check_run_id: checkRunId,
              status: state.status,
              ...(state.conclusion
                ? { conclusion: state.conclusion, completed_at: new Date().toISOString() }
                : {}),
              output: {
                title: state.output.title,
                summary: publishable(rt, state.output.summary, SUMMARY_LIMIT),
              },
              ...(state.actions ? { actions: state.actions } : {}),
            }),
          );
        }
        if (FINAL.includes(op.status)) await attempt(op, 'reaction', () => react(octokit, op));
      })
      .catch((error: unknown) =>
        log({ err: messageOf(error), operation: op.id, write: 'report' }, 'reporting failed'),
      );
    return chain;
  };

  return {
    onUpdate(op, env) {
      if (FINAL.includes(op.status)) {
        if (timer) clearTimeout(timer);
        timer = null;
        pending = null;
        return write(op, env).then(() => undefined);
      }
      pending = { op, env };
      const wait = last + interval - Date.now();
      if (wait <= 0) {
        pending = null;
        return write(op, env).then(() => undefined);
      }
      timer ??= setTimeout(() => {
        timer = null;
        if (pending) void write(pending.op, pending.env);
        pending = null;
      }, wait);
      return undefined;
    },
    flush: () => chain.then(() => undefined),
  };
}

async function react(octokit: GitHubClient, op: Operation): Promise<void> {
  const commentId = /#issuecomment-(\d+)$/.exec(op.trigger.url ?? '')?.[1];
  if (!commentId || !op.trigger.repo) return;
  await octokit.rest.reactions.createForIssueComment({
    ...splitRepo(op.trigger.repo),
    comment_id: Number(commentId),
    content: op.status === 'success' ? 'rocket' : 'confused',
  });
}
