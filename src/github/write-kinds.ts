// What a GitHub write is: the kinds kept in github_writes, their keys and how each is described.
import { z } from 'zod';
import type { Operation } from '../domain/index.js';
import type { WriteRecord } from '../store/writes.js';
import type { RepoRef } from './types.js';

/**
 * What a standalone write (not an operation's report) holds, as stored in github_writes.request:
 * parsed when it is read back, so a row changed or left by another version is refused with what is
 * wrong instead of being sent half-formed.
 */
export const STORED = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('comment'),
    issueNumber: z.number().int().positive(),
    body: z.string(),
  }),
  z.object({
    kind: z.literal('reaction'),
    commentId: z.number().int().positive(),
    content: z.enum(['eyes', 'rocket', 'confused']),
  }),
  z.object({
    kind: z.literal('issue'),
    title: z.string(),
    body: z.string(),
    labels: z.array(z.string()).optional(),
  }),
  z.object({
    kind: z.literal('issue-update'),
    issueNumber: z.number().int().positive(),
    title: z.string().optional(),
    body: z.string().optional(),
    state: z.enum(['open', 'closed']).optional(),
  }),
  z.object({
    kind: z.literal('check-run'),
    name: z.string(),
    headSha: z.string().regex(/^[0-9a-f]{40}$/),
    externalId: z.string(),
    status: z.enum(['queued', 'in_progress', 'completed']),
    conclusion: z.enum(['success', 'failure', 'neutral', 'cancelled']).optional(),
    title: z.string(),
    summary: z.string(),
    actions: z
      .array(z.object({ label: z.string(), description: z.string(), identifier: z.string() }))
      .optional(),
  }),
]);

/** A write that stands alone (not an operation's report), and the repository it goes to. */
export type Write = z.infer<typeof STORED> & { repo: RepoRef };

/** The rows of an operation's reports. */
export type ReportKind =
  'status-comment' | 'status-check-run' | 'status-reaction' | 'status-deployment';

/** How many of an environment's latest operations a report looks through (its deployments). */
export const HISTORY = 20;

/** A pull request's deploy writes into the status comment its create (or last deploy) posted. */
export function sharedComment(op: Operation, history: Operation[]): number | null {
  if (op.kind !== 'deploy') return null;
  return (
    history.find(
      (o) =>
        o.id !== op.id &&
        o.commentId !== null &&
        o.trigger.repo === op.trigger.repo &&
        o.trigger.issueNumber === op.trigger.issueNumber,
    )?.commentId ?? null
  );
}

export const reportKey = (op: Operation, kind: ReportKind) =>
  kind === 'status-reaction' ? `op:${op.id}:reaction:${op.attempt}` : `op:${op.id}:${kind}`;

/** The comment that asked for the operation, when it was asked in a comment. */
export function reactionTarget(op: Operation): number | null {
  const id = /#issuecomment-(\d+)$/.exec(op.trigger.url ?? '')?.[1];
  return id ? Number(id) : null;
}

export function describe(row: WriteRecord): string {
  switch (row.kind) {
    case 'status-comment':
      return 'status comment';
    case 'status-check-run':
    case 'check-run':
      return 'check run';
    case 'status-reaction':
      return 'reaction';
    case 'status-deployment':
      return 'deployment';
    default:
      return row.kind.replace('-', ' ');
  }
}
