// The check run's Retry button (check_run.requested_action) and GitHub's "Re-run"
// (check_run.rerequested): both resume the operation the check run reports, for people allowed to
// retry it. The same status comment and check run are edited from then on.
import { authorize } from '../commands/policy.js';
import { classify, messageOf, type Failure } from '../domain/index.js';
import { RETRY_ACTION } from '../render/check-run.js';
import type { CommentDeps } from './comment-handler.js';
import type { GitHubClient, RepoRef } from './types.js';

export interface CheckRunEvent {
  deliveryId: string;
  action: 'requested_action' | 'rerequested';
  identifier: string | null;
  externalId: string | null;
  repo: RepoRef;
  sender: string;
}

export async function handleCheckRun(event: CheckRunEvent, octokit: GitHubClient, deps: CommentDeps): Promise<void> {
  if (event.action === 'requested_action' && event.identifier !== RETRY_ACTION) return;
  const op = event.externalId && /^\d+$/.test(event.externalId) ? await deps.rt.store.getOperation(Number(event.externalId)) : null;
  if (!op || !(await deps.rt.store.recordDelivery(event.deliveryId, 'check_run'))) return;
  const decision = authorize(await deps.permissions.policy(octokit, event.repo), {
    verb: 'retry', envName: op.envName, login: event.sender, permission: await deps.permissions.of(octokit, event.repo, event.sender) });
  const say = (body: string) => op.trigger.issueNumber
    ? octokit.rest.issues.createComment({ ...event.repo, issue_number: op.trigger.issueNumber, body: deps.rt.redactor.redact(body) })
    : Promise.resolve();
  if (!decision.allowed) {
    await say(decision.message);
    return;
  }
  try {
    await deps.rt.engine.retry(op.envName, { ...op.trigger, source: 'check_run', actor: event.sender });
    deps.wake?.();
  } catch (error) {
    if (classify(error) !== 'failure') throw error;
    const fix = (error as Failure).fix;
    await say(`@${event.sender}, retry of \`${op.envName}\`: ${messageOf(error)}${fix ? `\n\nNext: \`${fix}\`` : ''}`);
  }
}
