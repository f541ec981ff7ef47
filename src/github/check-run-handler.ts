// Check run buttons (check_run.requested_action) and GitHub's "Re-run" (check_run.rerequested).
// On an operation's check run, Retry and Re-run resume the operation for people allowed to retry
// it (the same status comment and check run are edited from then on). Re-check, on any of ours,
// runs the consistency check; Sync, on the consistency check run, runs sync.
import { authorize, perform } from '../actions/index.js';
import { authorityFor } from './authority.js';
import { spell, classify, messageOf, type Failure } from '../domain/index.js';
import { RECHECK_ACTION, RETRY_ACTION } from './check-run.js';
import { CONSISTENCY_EXTERNAL_ID, SYNC_ACTION, type ConsistencyRequest } from './consistency.js';
import { recordDelivery } from './durable.js';
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

export async function handleCheckRun(
  event: CheckRunEvent,
  octokit: GitHubClient,
  deps: CommentDeps,
): Promise<void> {
  const id = event.externalId ?? '';
  const consistency =
    id === CONSISTENCY_EXTERNAL_ID || id.startsWith(`${CONSISTENCY_EXTERNAL_ID}:`);
  if (
    event.identifier === RECHECK_ACTION ||
    event.identifier === SYNC_ACTION ||
    (consistency && event.action === 'rerequested')
  ) {
    await consistencyAction(
      event,
      event.identifier === SYNC_ACTION ? 'sync' : 'check',
      octokit,
      deps,
    );
    return;
  }
  if (event.action === 'requested_action' && event.identifier !== RETRY_ACTION) return;
  const op =
    event.externalId && /^\d+$/.test(event.externalId)
      ? await deps.rt.store.getOperation(Number(event.externalId))
      : null;
  if (!op) return;
  // Judged as retry and as the verb it resumes (retrying a delete needs what delete needs);
  // GitHub is asked before anything is recorded.
  const authority = await authorityFor(deps, octokit, event.repo);
  if (authority.accepts(event.repo)) return;
  const command = { verb: 'retry', name: op.envName } as const;
  const decision = await authorize(
    command,
    (verb) => authority.decide({ verb, envName: op.envName, login: event.sender }),
    deps.rt.store,
  );
  const issueNumber = op.trigger.issueNumber;
  await recordDelivery(deps, [event.deliveryId], 'check_run', octokit, async (r) => {
    const say = (body: string) =>
      issueNumber
        ? r.write(
            { kind: 'comment', repo: event.repo, issueNumber, body },
            `reply:${event.deliveryId}`,
          )
        : Promise.resolve();
    if (!decision.allowed) {
      await say(decision.message);
      return;
    }
    try {
      const trigger = { ...op.trigger, source: 'check_run' as const, actor: event.sender };
      const again = await r.step((s) =>
        perform(command, { engine: s.engine, store: s.store, systems: deps.rt, trigger }),
      );
      r.report(again.operation);
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      const fix = (error as Failure).fix;
      await say(
        `@${event.sender}, retry of \`${op.envName}\`: ` +
          `${messageOf(error)}${fix ? `\n\nNext: \`${spell(fix, 'comment')}\`` : ''}`,
      );
    }
  });
}

async function consistencyAction(
  event: CheckRunEvent,
  verb: 'check' | 'sync',
  octokit: GitHubClient,
  deps: CommentDeps,
): Promise<void> {
  const authority = await authorityFor(deps, octokit, event.repo);
  if (authority.accepts(event.repo)) return;
  const decision = await authority.decide({ verb, envName: null, login: event.sender });
  if (!decision.allowed) return; // a button has nowhere to answer; the check run stays as it was
  const request: ConsistencyRequest = {
    id: event.deliveryId,
    command: { verb },
    trigger: {
      source: 'check_run',
      actor: event.sender,
      url: null,
      repo: `${event.repo.owner}/${event.repo.repo}`,
      issueNumber: null,
      headSha: null,
    },
    quoted: null,
  };
  await recordDelivery(deps, [event.deliveryId], 'check_run', octokit, (r) => r.request(request));
}
