// The Octokit that Probot hands out (installation-authenticated).
import type { ProbotOctokit } from 'probot';

export type GitHubClient = InstanceType<typeof ProbotOctokit>;
export interface RepoRef { owner: string; repo: string }

export const splitRepo = (fullName: string): RepoRef => {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
};
