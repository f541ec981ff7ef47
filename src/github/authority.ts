// One authority for every repository the app is installed on. Environment names are global, so
// the rules must be too: they are read from the config repository (KINDLER_CONFIG_REPO), a
// sender's permission is their permission there, and the policy names which repositories may
// issue commands at all (default: the config repository alone). Without a config repository
// each repository answers for itself (a single-repository set-up).
import { applyPolicy, type Decision, type Level, type Policy } from '../commands/policy.js';
import type { Verb } from '../commands/verbs.js';
import type { PermissionCache } from './permissions.js';
import { splitRepo, type GitHubClient, type RepoRef } from './types.js';

export interface AuthorityDeps {
  permissions: PermissionCache;
  /** `owner/repo` of the config repository, when there is one. */
  configRepo?: string | undefined;
  /** A client of the config repository's installation (it may differ from the event's). */
  configClient?: () => Promise<GitHubClient>;
}

export interface Authority {
  /** Where the rules and permissions come from. */
  repo: RepoRef;
  policy: Policy;
  /** Whether commands from `from` are taken at all; a refusal message when not. */
  accepts(from: RepoRef): string | null;
  permission(login: string): Promise<Level>;
  decide(request: { verb: Verb; envName: string | null; login: string }): Promise<Decision>;
}

const full = (r: RepoRef) => `${r.owner}/${r.repo}`.toLowerCase();

export async function authorityFor(
  deps: AuthorityDeps,
  octokit: GitHubClient,
  eventRepo: RepoRef,
): Promise<Authority> {
  const home = deps.configRepo ? splitRepo(deps.configRepo) : eventRepo;
  const client =
    deps.configRepo && full(home) !== full(eventRepo) && deps.configClient
      ? await deps.configClient()
      : octokit;
  const policy = await deps.permissions.policy(client, home);
  const allowed = (policy.repositories ?? [full(home)]).map((r) => r.toLowerCase());
  const permission = (login: string) => deps.permissions.of(client, home, login);
  return {
    repo: home,
    policy,
    accepts: (from) =>
      allowed.includes(full(from))
        ? null
        : `kindler-bot takes commands in ${allowed.join(', ')} only (\`repositories\` ` +
          `in ${full(home)}'s .github/kindler.yml); nothing was done.`,
    permission,
    decide: async (request) =>
      applyPolicy(policy, { ...request, permission: await permission(request.login) }),
  };
}
