// Who may run what: the commenter's repository permission (cached briefly) against the policy in
// the repository's .github/kindler.yml (cached briefly; absent → the defaults).
import {
  DEFAULT_POLICY,
  LEVELS,
  parsePolicy,
  type Level,
  type Policy,
} from '../commands/policy.js';
import { Failure, httpStatusOf } from '../domain/index.js';
import type { GitHubClient, RepoRef } from './types.js';

const TTL_MS = 60_000;

export class PermissionCache {
  private readonly levels = new Map<string, { value: Level; until: number }>();
  private readonly policies = new Map<string, { value: Policy; until: number }>();

  async of(octokit: GitHubClient, repo: RepoRef, login: string): Promise<Level> {
    const key = `${repo.owner}/${repo.repo}:${login}`;
    const hit = this.levels.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: Level = 'none';
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
        ...repo,
        username: login,
      });
      const role = (data as { role_name?: string }).role_name;
      value = (LEVELS as readonly string[]).includes(role ?? '')
        ? (role as Level)
        : (LEVELS as readonly string[]).includes(data.permission)
          ? (data.permission as Level)
          : 'none';
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
    this.levels.set(key, { value, until: Date.now() + TTL_MS });
    return value;
  }

  /**
   * The repository's policy; Failure('invalid_input') with the precise error when the file is
   * invalid.
   */
  async policy(octokit: GitHubClient, repo: RepoRef): Promise<Policy> {
    const key = `${repo.owner}/${repo.repo}`;
    const hit = this.policies.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let value = DEFAULT_POLICY;
    try {
      const { data } = await octokit.rest.repos.getContent({
        ...repo,
        path: '.github/kindler.yml',
        mediaType: { format: 'raw' },
      });
      const parsed = parsePolicy(String(data));
      if (!parsed.ok)
        throw new Failure('invalid_input', `${parsed.error}. No command runs until it is fixed.`);
      value = parsed.policy;
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
    this.policies.set(key, { value, until: Date.now() + TTL_MS });
    return value;
  }
}
