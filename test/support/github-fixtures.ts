// What tests of the GitHub App start from: GitHub's own example webhook payloads
// (@octokit/webhooks-examples), and an app private key as GitHub issues them (RSA, PKCS#1 PEM).
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let examples: { name: string; examples: { action?: string }[] }[] | null = null;

/** A fresh copy of GitHub's example payload of `name` with `action` (throws when there is none). */
export function webhookExample(name: string, action: string): any {
  examples ??= require('@octokit/webhooks-examples/api.github.com/index.json');
  const found = examples!.find((e) => e.name === name)?.examples.find((x) => x.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

/**
 * GitHub's example of a push to a branch, as a push of `after` to `branch` of `repo` (whose default
 * branch is main) by commits touching `touched`.
 */
export function pushPayload(options: {
  repo: string;
  branch: string;
  after: string;
  touched: string[];
  installationId: number;
}): any {
  examples ??= require('@octokit/webhooks-examples/api.github.com/index.json');
  const found = examples!
    .find((e) => e.name === 'push')
    ?.examples.find((x) => (x as { ref?: string }).ref?.startsWith('refs/heads/'));
  if (!found) throw new Error('no push to a branch in @octokit/webhooks-examples');
  const p = structuredClone(found) as any;
  const [owner, name] = options.repo.split('/') as [string, string];
  p.ref = `refs/heads/${options.branch}`;
  p.after = options.after;
  p.commits = [
    { ...p.commits[0], id: options.after, added: [], removed: [], modified: options.touched },
  ];
  p.head_commit = p.commits[0];
  p.repository = {
    ...p.repository,
    name,
    full_name: options.repo,
    default_branch: 'main',
    master_branch: 'main',
    owner: { ...p.repository.owner, login: owner, name: owner },
  };
  p.installation = { id: options.installationId };
  return p;
}

/** A GitHub App private key: RSA 2048, PKCS#1 PEM. */
export function appPrivateKey(): string {
  return crypto
    .generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
}

/** GitHub's issue_comment.created example, as `login` commenting `body` on `repo`#`issue`. */
export function commentPayload(options: {
  repo: string;
  issue: number;
  commentId: number;
  login: string;
  body: string;
  installationId: number;
}): any {
  const p = webhookExample('issue_comment', 'created');
  const [owner, name] = options.repo.split('/') as [string, string];
  Object.assign(p.comment, {
    id: options.commentId,
    body: options.body,
    html_url: `https://github.com/${options.repo}/issues/${options.issue}#issuecomment-${options.commentId}`,
    user: { ...p.comment.user, login: options.login },
  });
  p.issue.number = options.issue;
  p.repository = {
    ...p.repository,
    name,
    full_name: options.repo,
    owner: { ...p.repository.owner, login: owner },
  };
  p.sender = { ...p.sender, login: options.login, type: 'User' };
  p.installation = { id: options.installationId };
  return p;
}

/** A body as a reader sees it: the write's hidden marker (by which the outbox finds a lost write) aside. */
export const unmarked = (body: string): string =>
  body.replace(/\n\n<!-- kindler:write:[0-9a-f]+ -->$/, '');
