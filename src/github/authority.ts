// One authority for every repository the app is installed on. Environment names are global, so
// the rules must be too: they are read from the config repository (KINDLER_CONFIG_REPO), a
// sender's permission is their permission there, and the policy names which repositories may
// issue commands at all (default: the config repository alone). Without a config repository
// each repository answers for itself (a single-repository set-up).
import { authorize, type Decision, type Level, type Policy } from '../commands/policy.js';
import type { Verb } from '../commands/verbs.js';
import type { EnvName, Operation } from '../domain/index.js';
import type { Store } from '../store/store.js';
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
        : `kindler-bot takes commands in ${allowed.join(', ')} only (\`repositories\` in ${full(home)}'s .github/kindler.yml); nothing was done.`,
    permission,
    decide: async (request) =>
      authorize(policy, { ...request, permission: await permission(request.login) }),
  };
}

/**
 * The verbs a request is judged as: its own, and for retry and cancel the verb of the operation
 * they resume or stop (retrying a delete needs what delete needs); extend changes an environment's
 * life, so it needs what create needs, and a deploy is a pull request's create carried on.
 */
export function judgedAs(verb: Verb, resumes: Pick<Operation, 'kind'> | null): Verb[] {
  // A deploy is a pull request's create carried on: it needs what create needs.
  if ((verb === 'retry' || verb === 'cancel') && resumes)
    return [verb, resumes.kind === 'deploy' ? 'create' : resumes.kind];
  if (verb === 'extend') return [verb, 'create'];
  return [verb];
}

/**
 * A request judged as a comment is, on every surface: its verb and what judgedAs adds (a retry
 * as the operation it resumes, a cancel as the one it stops). The first refusal, or allowed.
 */
export async function judge(
  store: Pick<Store, 'latestOperation' | 'activeOperation'>,
  decide: (verb: Verb) => Promise<Decision>,
  verb: Verb,
  name: EnvName | null,
): Promise<Decision> {
  const resumes = !name
    ? null
    : verb === 'retry'
      ? await store.latestOperation(name)
      : verb === 'cancel'
        ? await store.activeOperation(name)
        : null;
  for (const judged of judgedAs(verb, resumes)) {
    const decision = await decide(judged);
    if (!decision.allowed) return decision;
  }
  return { allowed: true };
}
