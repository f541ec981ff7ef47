// A comment: a standalone one (a reply, a notice) carries its write's marker so an attempt that
// may have been taken is found, not repeated; an operation's status comment is edited in place.
import { deploysHead, isFinished, type Operation } from '../../domain/index.js';
import { operationMarker, renderStatusComment } from '../status-comment.js';
import { COMMENT_LIMIT } from '../fit.js';
import { HISTORY, type Write } from '../write-kinds.js';
import { findComment, writeMarker } from '../write-lookups.js';
import { fit, type Made, type WriteContext } from './context.js';

export async function writeComment(
  ctx: WriteContext,
  w: Extract<Write, { kind: 'comment' }>,
): Promise<Made> {
  const { octokit, repo, row } = ctx;
  const marker = writeMarker(row.key);
  const found = ctx.uncertain
    ? await findComment(octokit, { ...repo, issue: w.issueNumber }, marker, row)
    : null;
  if (found !== null) return { externalId: found };
  const { data } = await octokit.rest.issues.createComment({
    ...repo,
    issue_number: w.issueNumber,
    body: `${fit(ctx, w.body, COMMENT_LIMIT - marker.length - 2)}\n\n${marker}`,
  });
  return { externalId: data.id };
}

/** The operation's one status comment in its conversation, created once and edited from then on. */
export async function writeStatusComment(ctx: WriteContext, op: Operation): Promise<Made> {
  const { octokit, repo, row } = ctx;
  const { store, urls } = ctx.deps;
  const final = isFinished(op.status);
  const issue = op.trigger.issueNumber;
  if (issue === null) return { final }; // no conversation to write in
  const env = await store.getEnvironment(op.envName);
  const deployments = deploysHead(op)
    ? (await store.listOperations({ envName: op.envName, limit: HISTORY })).filter(deploysHead)
    : [];
  const body = fit(ctx, renderStatusComment(op, env, urls, { deployments }));
  const id =
    row.externalId ??
    (ctx.uncertain
      ? await findComment(octokit, { ...repo, issue }, operationMarker(op.id), row)
      : null);
  if (id !== null) {
    await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body });
    if (op.commentId !== id) await store.updateOperation(op.id, { commentId: id });
    return { final, externalId: id };
  }
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: issue, body });
  await store.updateOperation(op.id, { commentId: data.id });
  return { final, externalId: data.id };
}
