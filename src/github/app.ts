// The Probot app: wiring only. Each handler turns a webhook into a typed event and hands it on.
import type { Probot } from 'probot';
import { httpStatusOf, messageOf } from '../domain/index.js';
import { handleComment, type CommentDeps } from './comment-handler.js';
import { handleCheckRun } from './check-run-handler.js';
import { handlePullRequest } from './pr-handler.js';
import { outboxOver, type Outbox } from './outbox.js';
import { handlePush } from './site-declaration.js';

/**
 * The events the app handles; every other delivery is answered without work (see github/intake.ts).
 */
export const HANDLED_EVENTS = {
  comment: ['issue_comment.created', 'issue_comment.edited'],
  pullRequest: [
    'pull_request.labeled',
    'pull_request.unlabeled',
    'pull_request.closed',
    'pull_request.reopened',
    'pull_request.synchronize',
  ],
  checkRun: ['check_run.requested_action', 'check_run.rerequested'],
  // The config repository's sites (github/site-declaration.ts).
  push: ['push'],
} as const;

/** The events' names without their actions (`issue_comment`, …): the labels metrics keep. */
export const WEBHOOK_EVENTS: readonly string[] = [
  ...new Set(
    Object.values(HANDLED_EVENTS).flatMap((events) => events.map((e) => e.split('.')[0]!)),
  ),
];

/**
 * What a handler throws reaches Probot's logger and the queue's job record: only its message goes
 * there, bounded — never an object graph (a payload, a request) a hostile delivery could make
 * deep or huge enough to break the logger.
 */
export function plainError(error: unknown): Error {
  const message = messageOf(error);
  const plain = new Error(message.length > 2_000 ? `${message.slice(0, 1_997)}...` : message);
  const status = httpStatusOf(error);
  if (typeof status === 'number') Object.assign(plain, { status });
  return plain;
}

/** Handler failures by delivery id, taken by receiveDelivery(). */
const failures = new Map<string, Error>();

/** Deliveries being handled from the durable queue (tried again there when the database fails). */
const fromQueue = new Set<string>();

/**
 * A handler's failure never goes back through Probot: @octokit/webhooks would attach the whole
 * event to it and hand it to the logger (a 1,000-level payload broke the pretty logger for good).
 * It is kept, as a plain message, for receiveDelivery() to report.
 */
const guarded =
  <A extends [{ id: string }, ...unknown[]]>(fn: (...args: A) => Promise<void>) =>
  async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (error) {
      failures.set(args[0].id, plainError(error));
    }
  };

/**
 * Hands a delivery to the app. Rejects with what a handler threw, as a plain bounded Error, so the
 * queue retries it and the caller logs it — never with the event attached.
 */
export async function receiveDelivery(
  probot: Probot,
  delivery: { id: string; name: string; payload: unknown },
  options: { queued?: boolean } = {},
): Promise<void> {
  if (options.queued) fromQueue.add(delivery.id);
  try {
    await probot.receive(delivery as never);
  } catch (error) {
    failures.delete(delivery.id);
    throw plainError(error);
  } finally {
    fromQueue.delete(delivery.id);
  }
  const failed = failures.get(delivery.id);
  failures.delete(delivery.id);
  if (failed) throw failed;
}

/** What the app needs; without an outbox it writes to GitHub through one of its own. */
export type AppDeps = Omit<CommentDeps, 'outbox'> & { outbox?: Outbox | undefined };

export function kindlerApp(given: AppDeps) {
  const deps: CommentDeps = { ...given, outbox: given.outbox ?? outboxOver(given.rt) };
  return (app: Probot): void => {
    app.on(
      [...HANDLED_EVENTS.comment],
      guarded(async (context) => {
        const p = context.payload;
        await handleComment(
          {
            deliveryId: context.id,
            queued: fromQueue.has(context.id),
            action: p.action === 'edited' ? 'edited' : 'created',
            body: p.comment.body ?? '',
            previousBody: p.action === 'edited' ? p.changes.body?.from : undefined,
            commentId: p.comment.id,
            commentUrl: p.comment.html_url,
            issueNumber: p.issue.number,
            repo: { owner: p.repository.owner.login, repo: p.repository.name },
            installationId: p.installation?.id ?? null,
            sender: { login: p.sender.login, type: p.sender.type },
          },
          context.octokit,
          deps,
        );
      }),
    );
    app.on(
      [...HANDLED_EVENTS.pullRequest],
      guarded(async (context) => {
        const p = context.payload;
        const label = 'label' in p && p.label ? p.label.name : null;
        await handlePullRequest(
          {
            deliveryId: context.id,
            action: p.action,
            label,
            labels: p.pull_request.labels.map((l) => l.name),
            number: p.pull_request.number,
            url: p.pull_request.html_url,
            headSha: p.pull_request.head.sha,
            repo: { owner: p.repository.owner.login, repo: p.repository.name },
            installationId: p.installation?.id ?? null,
            sender: p.sender.login,
            fork: p.pull_request.head.repo?.full_name !== p.repository.full_name,
            headRepo: p.pull_request.head.repo?.full_name ?? null,
          },
          context.octokit,
          deps,
        );
      }),
    );
    app.on(
      [...HANDLED_EVENTS.checkRun],
      guarded(async (context) => {
        const p = context.payload;
        await handleCheckRun(
          {
            deliveryId: context.id,
            action: p.action === 'rerequested' ? 'rerequested' : 'requested_action',
            identifier:
              'requested_action' in p && p.requested_action
                ? (p.requested_action.identifier ?? null)
                : null,
            externalId: p.check_run.external_id ?? null,
            repo: { owner: p.repository.owner.login, repo: p.repository.name },
            sender: p.sender.login,
          },
          context.octokit,
          deps,
        );
      }),
    );
    app.on(
      'push',
      guarded(async (context) => {
        const p = context.payload;
        const commits = p.commits ?? [];
        await handlePush(
          {
            repo: { owner: p.repository.owner?.login ?? '', repo: p.repository.name },
            ref: p.ref,
            after: p.after,
            deleted: p.deleted,
            defaultBranch: p.repository.default_branch ?? '',
            touched: commits.flatMap((c) => [
              ...(c.added ?? []),
              ...(c.modified ?? []),
              ...(c.removed ?? []),
            ]),
            commitsListed: commits.length,
          },
          context.octokit,
          deps,
        );
      }),
    );
  };
}
