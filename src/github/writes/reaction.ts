// A reaction: 👀 on a command (standalone), or the operation's 🚀/😕 on the comment that asked
// for it when it ends. GitHub answers a reaction given twice with the first: nothing doubles.
import { isFinished, type Operation } from '../../domain/index.js';
import { reactionTarget, type Write } from '../write-kinds.js';
import type { Made, WriteContext } from './context.js';

export async function writeReaction(
  ctx: WriteContext,
  w: Extract<Write, { kind: 'reaction' }>,
): Promise<Made> {
  await ctx.octokit.rest.reactions.createForIssueComment({
    ...ctx.repo,
    comment_id: w.commentId,
    content: w.content,
  });
  return {};
}

/** The operation's outcome on the comment that asked for it. */
export async function writeStatusReaction(ctx: WriteContext, op: Operation): Promise<Made> {
  const commentId = reactionTarget(op);
  if (commentId !== null)
    await ctx.octokit.rest.reactions.createForIssueComment({
      ...ctx.repo,
      comment_id: commentId,
      content: op.status === 'success' ? 'rocket' : 'confused',
    });
  return { final: isFinished(op.status) };
}
