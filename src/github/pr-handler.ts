// Pull-request environments: the label `env:k3d` or `env:kind` creates `pr-<number>`; removing the
// label or closing the pull request deletes it; reopening a labelled pull request recreates it.
// Its branch is rendered from the head's deploy/ when the head is the config repository's (or a
// repository `pull_requests.deploy_from` names), from the templates otherwise; every push
// (`synchronize`) deploys the new head. Label names, the pinning label, the lifetime and
// deploy_from come from `.github/kindler.yml` (pull_requests), the lifetime otherwise from
// KINDLER_PR_TTL_HOURS.
import { parseDuration } from '../commands/duration.js';
import { DEFAULT_POLICY } from '../commands/policy.js';
import { authorityFor, type Authority } from './authority.js';
import { createHash } from 'node:crypto';
import {
  spell,
  Failure,
  PROVIDERS,
  classify,
  envName,
  longestName,
  type EnvName,
  messageOf,
  type ProviderName,
  type Trigger,
} from '../domain/index.js';
import type { CommentDeps } from './comment-handler.js';
import { recordDelivery, type Recorder } from './durable.js';
import { installationKey, type GitHubClient, type RepoRef } from './types.js';
import { previewKinds } from '../git/branch-render.js';

export interface PullRequestEvent {
  deliveryId: string;
  action: 'labeled' | 'unlabeled' | 'closed' | 'reopened' | 'synchronize';
  label: string | null;
  labels: string[];
  number: number;
  url: string;
  headSha: string;
  repo: RepoRef;
  installationId: number | null;
  sender: string;
  /** The head is in another repository (a fork), or its repository is gone. */
  fork: boolean;
  /** The repository of the head ("owner/name"); null when it is gone. */
  headRepo: string | null;
}

/**
 * The environment of pull request `n` in `repo`: `pr-<n>` for the config repository, and
 * `pr-<n>-<repo>-<hash>` for any other (the repository's name cut to fit, and 4 hex digits of
 * owner/repo), so the same number in two repositories never names one environment.
 */
export function prEnvName(repo: RepoRef, n: number, configRepo?: string): EnvName {
  const full = `${repo.owner}/${repo.repo}`.toLowerCase();
  if (configRepo && full === configRepo.toLowerCase()) return envName(`pr-${n}`);
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 4);
  const slug = repo.repo
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // The tightest limit of any provider, since the label picks the provider later.
  const max = Math.min(...PROVIDERS.map((p) => longestName(p).max));
  const cut = slug.slice(0, Math.max(0, max - `pr-${n}--${hash}`.length)).replace(/-+$/, '');
  return envName(cut ? `pr-${n}-${cut}-${hash}` : `pr-${n}-${hash}`);
}

export async function handlePullRequest(
  event: PullRequestEvent,
  octokit: GitHubClient,
  deps: CommentDeps,
): Promise<void> {
  // What this delivery has to say, on the pull request: recorded with the delivery, sent once.
  let said = 0;
  const sayIn = (r: Recorder) => (body: string) =>
    r.write(
      { kind: 'comment', repo: event.repo, issueNumber: event.number, body },
      `reply:${event.deliveryId}:${++said}`,
    );
  let authority: Authority;
  try {
    authority = await authorityFor(deps, octokit, event.repo);
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    // An invalid policy file stops everything; say so where someone asked for an environment.
    const defaults = Object.values(DEFAULT_POLICY.pull_requests.labels);
    if (event.label && defaults.includes(event.label))
      await recordDelivery(deps, [event.deliveryId], 'pull_request', octokit, (r) =>
        sayIn(r)(error.message),
      );
    return;
  }
  if (authority.accepts(event.repo)) return;
  const settings = authority.policy.pull_requests;
  const name = prEnvName(event.repo, event.number, deps.rt.config.KINDLER_CONFIG_REPO);
  const PR_LABELS: Record<string, ProviderName> = {
    [settings.labels.k3d]: 'k3d',
    [settings.labels.kind]: 'kind',
  };
  const KEEP_LABEL = settings.keep_label;
  if (event.label === KEEP_LABEL && (event.action === 'labeled' || event.action === 'unlabeled')) {
    const env = await deps.rt.store.getEnvironment(name);
    if (env && env.sourceUrl === event.url)
      await deps.rt.store.updateEnvironment(env.name, { pinned: event.action === 'labeled' });
    return;
  }
  const found = event.labels.find((l) => l in PR_LABELS);
  const provider = found ? (PR_LABELS[found] as ProviderName) : null;
  const wants =
    provider !== null &&
    event.action !== 'closed' &&
    !(event.action === 'unlabeled' && event.label && event.label in PR_LABELS);
  const relevant =
    (event.label !== null && event.label in PR_LABELS) ||
    event.action === 'closed' ||
    event.action === 'reopened' ||
    (event.action === 'synchronize' && provider !== null);
  if (!relevant) return;
  // Who the sender is to the config repository is asked of GitHub now, before the transaction
  // (decide() below answers from it); closing needs no one's permission.
  if (event.action !== 'closed') await authority.permission(event.sender);
  await recordDelivery(deps, [event.deliveryId], 'pull_request', octokit, async (r) => {
    if (event.installationId)
      await r.store.setState(installationKey(event.repo), event.installationId);
    const trigger: Trigger = {
      source: 'pull_request',
      actor: event.sender,
      url: event.url,
      repo: `${event.repo.owner}/${event.repo.repo}`,
      issueNumber: event.number,
      headSha: event.headSha,
    };
    const existing = await r.store.getEnvironment(name);
    // Only the pull request that created an environment changes it.
    if (existing && existing.sourceUrl !== event.url) {
      if (wants)
        await sayIn(r)(
          `Environment \`${name}\` belongs to ${existing.sourceUrl ?? 'someone else'}, ` +
            `not to this pull request; nothing was changed.`,
        );
      return;
    }
    // A deployable head: the config repository's own, or one the policy names.
    const head = event.headRepo?.toLowerCase();
    const source =
      head &&
      (head === deps.rt.config.KINDLER_CONFIG_REPO?.toLowerCase() ||
        settings.deploy_from.some((r) => r.toLowerCase() === head))
        ? { repo: event.headRepo as string, sha: event.headSha, by: event.sender }
        : null;
    if (event.action === 'synchronize') {
      // A push deploys the new head to the environment the pull request has, when it renders one.
      if (!existing?.source || !source) return;
      const decision = await authority.decide({
        verb: 'create',
        envName: name,
        login: event.sender,
      });
      if (!decision.allowed) {
        await sayIn(r)(`${event.headSha.slice(0, 7)} was not deployed: ${decision.message}`);
        return;
      }
      try {
        await r.store.setState(previewKinds(name), settings.allowed_kinds ?? null);
        const op = await r.engine.request({ kind: 'deploy', name, source, trigger });
        // Another operation runs: the head is deployed when it ends (its report says so then).
        if (op.kind === 'deploy' && op.trigger.headSha === event.headSha) r.report(op);
      } catch (error) {
        if (classify(error) !== 'failure') throw error;
        await sayIn(r)(messageOf(error));
      }
      return;
    }
    const exists = existing !== null;
    // Who labels or reopens needs what create needs; who removes the label, what delete needs.
    // Closing is the pull request's own end: its environment goes with it.
    const verb =
      wants && !exists ? 'create' : !wants && exists && event.action !== 'closed' ? 'delete' : null;
    if (verb) {
      const decision = await authority.decide({ verb, envName: name, login: event.sender });
      const refusal = !decision.allowed
        ? decision.message
        : verb === 'create' && event.fork && !settings.forks
          ? `This pull request comes from a fork: it gets no environment unless ` +
            `\`pull_requests.forks: true\` is set in .github/kindler.yml. Nothing was created.`
          : null;
      if (refusal) {
        await sayIn(r)(refusal);
        return;
      }
    }
    try {
      if (wants && provider && !exists) {
        const hours = deps.rt.config.KINDLER_PR_TTL_HOURS;
        const configured = settings.ttl ? parseDuration(settings.ttl) : null;
        const ttlMs = configured?.ok ? configured.ms : hours > 0 ? hours * 3_600_000 : null;
        if (source) await r.store.setState(previewKinds(name), settings.allowed_kinds ?? null);
        const op = await r.engine.request({
          kind: 'create',
          name,
          provider,
          trigger,
          options: { ttlMs, ...(source ? { source } : {}) },
        });
        if (event.labels.includes(KEEP_LABEL))
          await r.store.updateEnvironment(name, { pinned: true });
        r.report(op);
      } else if (!wants && exists) {
        const op = await r.engine.request({ kind: 'delete', name, trigger });
        r.report(op);
      }
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      const fix = (error as Failure).fix;
      await sayIn(r)(`${messageOf(error)}${fix ? `\n\nNext: \`${spell(fix, 'comment')}\`` : ''}`);
    }
  });
}
