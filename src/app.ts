// The Probot app: wiring only. Each handler turns a webhook into a typed event and hands it on.
import type { Probot } from 'probot';
import { handleComment, type CommentDeps } from './github/comment-handler.js';

export function kindlerApp(deps: CommentDeps) {
  return (app: Probot): void => {
    app.on(['issue_comment.created', 'issue_comment.edited'], async (context) => {
      const p = context.payload;
      await handleComment({
        deliveryId: context.id,
        action: p.action === 'edited' ? 'edited' : 'created',
        body: p.comment.body ?? '',
        previousBody: p.action === 'edited' ? (p as { changes?: { body?: { from?: string } } }).changes?.body?.from : undefined,
        commentId: p.comment.id,
        commentUrl: p.comment.html_url,
        issueNumber: p.issue.number,
        repo: { owner: p.repository.owner.login, repo: p.repository.name },
        installationId: p.installation?.id ?? null,
        sender: { login: p.sender.login, type: p.sender.type },
      }, context.octokit, deps);
    });
  };
}
