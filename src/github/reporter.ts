// Keeps an operation's status comment and check run current while it runs: edits are throttled (GitHub's
// secondary limits), the final state is always written, and a 🚀 or 😕 lands on the comment that
// asked for it.
import type { Environment, Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import { checkRunState } from '../render/check-run.js';
import { renderStatusComment } from '../render/status-comment.js';
import type { Runtime } from '../runtime.js';
import { splitRepo, type GitHubClient } from './types.js';

const FINAL = ['success', 'failed', 'cancelled'];

export function commentReporter(
  octokit: GitHubClient,
  rt: Runtime,
  options: { minIntervalMs?: number } = {},
): OperationObserver & { flush(): Promise<void> } {
  const interval = options.minIntervalMs ?? 2_000;
  let last = 0;
  let pending: { op: Operation; env: Environment | null } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<unknown> = Promise.resolve();

  const write = (op: Operation, env: Environment | null) => {
    last = Date.now(); // at once, so updates arriving before this write runs are throttled too
    chain = chain
      .then(async () => {
        if (!op.commentId || !op.trigger.repo) return;
        const body = rt.redactor.redact(
          renderStatusComment(op, env, { baseDomain: rt.config.BASE_DOMAIN }),
        );
        await octokit.rest.issues.updateComment({
          ...splitRepo(op.trigger.repo),
          comment_id: op.commentId,
          body,
        });
        if (op.checkRunId) {
          const state = checkRunState(op, env, { baseDomain: rt.config.BASE_DOMAIN });
          await octokit.rest.checks.update({
            ...splitRepo(op.trigger.repo),
            check_run_id: op.checkRunId,
            status: state.status,
            ...(state.conclusion
              ? { conclusion: state.conclusion, completed_at: new Date().toISOString() }
              : {}),
            output: {
              title: state.output.title,
              summary: rt.redactor.redact(state.output.summary),
            },
            ...(state.actions ? { actions: state.actions } : {}),
          });
        }
        if (FINAL.includes(op.status)) await react(octokit, op);
      })
      .catch(() => undefined);
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
