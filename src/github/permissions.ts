// Who may run what: the commenter's repository permission (GitHub's legacy levels), cached
// briefly. Read-only verbs need read; everything else needs write. A refusal names the rule.
import { isReadOnly, type Verb } from '../commands/verbs.js';
import type { GitHubClient, RepoRef } from './types.js';

export type Permission = 'admin' | 'write' | 'read' | 'none';
const RANK: Record<Permission, number> = { none: 0, read: 1, write: 2, admin: 3 };
const TTL_MS = 60_000;

export class PermissionCache {
  private readonly cache = new Map<string, { value: Permission; until: number }>();

  async of(octokit: GitHubClient, repo: RepoRef, login: string): Promise<Permission> {
    const key = `${repo.owner}/${repo.repo}:${login}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: Permission = 'none';
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
      value = (['admin', 'write', 'read'] as const).find((p) => p === data.permission) ?? (data.permission === 'maintain' ? 'write' : data.permission === 'triage' ? 'read' : 'none');
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    this.cache.set(key, { value, until: Date.now() + TTL_MS });
    return value;
  }
}

export type Decision = { allowed: true } | { allowed: false; message: string };

export function authorize(verb: Verb, login: string, permission: Permission): Decision {
  const need: Permission = isReadOnly(verb) ? 'read' : 'write';
  if (RANK[permission] >= RANK[need]) return { allowed: true };
  const rule = isReadOnly(verb) ? 'read-only commands need read' : 'commands that change environments need write';
  return { allowed: false, message: `@${login}, \`/env ${verb}\` needs ${need} permission on this repository (rule "${rule}", the default); you have ${permission}.` };
}
