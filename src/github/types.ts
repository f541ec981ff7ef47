// The Octokit that Probot hands out (installation-authenticated).
import { z } from 'zod';
import { stateKey } from '../store/state-key.js';
import type { ProbotOctokit } from 'probot';

export type GitHubClient = InstanceType<typeof ProbotOctokit>;
export interface RepoRef {
  owner: string;
  repo: string;
}

/**
 * Where the installation covering a repository is remembered (kindler_state), once a webhook or a
 * lookup told us.
 */
/**
 * The installation that last delivered an event of a repository (how its checks are written later).
 */
export const installationKey = (repo: RepoRef) =>
  stateKey(`installation:${repo.owner}/${repo.repo}`, z.number());

export const splitRepo = (fullName: string): RepoRef => {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
};

/** The commit at the head of the repository's default branch (where issue-asked check runs go). */
export async function defaultBranchHead(octokit: GitHubClient, repo: RepoRef): Promise<string> {
  const { data: info } = await octokit.rest.repos.get({ ...repo });
  return (await octokit.rest.repos.getBranch({ ...repo, branch: info.default_branch })).data.commit
    .sha;
}
