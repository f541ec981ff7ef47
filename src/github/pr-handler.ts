// Pull-request environments: the label `env:k3d` or `env:kind` creates `pr-<number>`; removing the
// label or closing the pull request deletes it; reopening a labelled pull request recreates it.
// Expiry comes from KINDLER_PR_TTL_HOURS.
import { classify, envName, messageOf, type Failure, type ProviderName, type Trigger } from '../domain/index.js';
import { announce, type CommentDeps } from './comment-handler.js';
import type { GitHubClient, RepoRef } from './types.js';

export const PR_LABELS: Record<string, ProviderName> = { 'env:k3d': 'k3d', 'env:kind': 'kind' };
export const KEEP_LABEL = 'keep';

export interface PullRequestEvent {
  deliveryId: string;
  action: 'labeled' | 'unlabeled' | 'closed' | 'reopened';
  label: string | null;
  labels: string[];
  number: number;
  url: string;
  headSha: string;
  repo: RepoRef;
  installationId: number | null;
  sender: string;
}

export const prEnvName = (n: number) => envName(`pr-${n}`);

export async function handlePullRequest(event: PullRequestEvent, octokit: GitHubClient, deps: CommentDeps): Promise<void> {
  if (event.label === KEEP_LABEL && (event.action === 'labeled' || event.action === 'unlabeled')) {
    const env = await deps.rt.store.getEnvironment(prEnvName(event.number));
    if (env) await deps.rt.store.updateEnvironment(env.name, { pinned: event.action === 'labeled' });
    return;
  }
  const provider = providerOf(event);
  const wants = provider !== null && event.action !== 'closed' && !(event.action === 'unlabeled' && event.label && event.label in PR_LABELS);
  const relevant = (event.label !== null && event.label in PR_LABELS) || event.action === 'closed' || event.action === 'reopened';
  if (!relevant) return;
  if (!(await deps.rt.store.recordDelivery(event.deliveryId, 'pull_request'))) return;
  if (event.installationId) await deps.rt.store.setState(`installation:${event.repo.owner}/${event.repo.repo}`, event.installationId);
  const name = prEnvName(event.number);
  const trigger: Trigger = { source: 'pull_request', actor: event.sender, url: event.url, repo: `${event.repo.owner}/${event.repo.repo}`, issueNumber: event.number, headSha: event.headSha };
  const exists = (await deps.rt.store.getEnvironment(name)) !== null;
  try {
    if (wants && provider && !exists) {
      const ttl = deps.rt.config.KINDLER_PR_TTL_HOURS;
      const op = await deps.rt.engine.request({ kind: 'create', name, provider, trigger, options: { ttlMs: ttl > 0 ? ttl * 3_600_000 : null } });
      await announce(op, octokit, event.repo, event.number, deps);
    } else if (!wants && exists) {
      const op = await deps.rt.engine.request({ kind: 'delete', name, trigger });
      await announce(op, octokit, event.repo, event.number, deps);
    }
  } catch (error) {
    if (classify(error) !== 'failure') throw error;
    const fix = (error as Failure).fix;
    await octokit.rest.issues.createComment({ ...event.repo, issue_number: event.number,
      body: deps.rt.redactor.redact(`${messageOf(error)}${fix ? `\n\nNext: \`${fix}\`` : ''}`) });
  }
}

function providerOf(event: PullRequestEvent): ProviderName | null {
  const found = event.labels.find((l) => l in PR_LABELS);
  return found ? (PR_LABELS[found] as ProviderName) : null;
}
