// The Octokit that Probot hands out (installation-authenticated).
import type { ProbotOctokit } from 'probot';

export type GitHubClient = InstanceType<typeof ProbotOctokit>;
export interface RepoRef {
  owner: string;
  repo: string;
}

/** Where the installation covering a repository is remembered (kindler_state), once a webhook or a lookup told us. */
export const installationKey = (repo: RepoRef): string => `installation:${repo.owner}/${repo.repo}`;

export const splitRepo = (fullName: string): RepoRef => {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
};
