// GitHub API requests the branch step makes, counted at the HTTP layer against the stateful GitHub
// stand-in (test/support/github-git.ts: every request answered as GitHub would, or refused):
// a branch created from the templates, and a pull request's re-deploy of a head whose deploy/
// holds 20 files of which 1 changed (the head read, the branch written).
import { Octokit } from '@octokit/rest';
import nock from 'nock';
import { envName, type Environment } from '../src/domain/index.js';
import { BranchStep } from '../src/git/branch-step.js';
import { GitHubBranchStore } from '../src/git/github-branch-store.js';
import type { GitHubApi } from '../src/git/github-api.js';
import { GitHubHeadSource, type GitHubReadApi } from '../src/git/github-head.js';
import { loadTemplates } from '../src/git/templates.js';
import { renderBranchFiles, templateVars } from '../src/git/manifests.js';
import { validateDeploy } from '../src/git/validate-manifests.js';
import { GitHubGit } from '../test/support/github-git.js';
import type { Figure } from './figure.js';

const REPO = 'acme/cfg';
const settings = { baseDomain: 'example.test', ingressClass: 'traefik' };

export async function githubCallsPerBranch(): Promise<Figure[]> {
  nock.disableNetConnect();
  const github = new GitHubGit();
  github.repo(REPO);
  github.intercept();
  const octokit = new Octokit({ request: { retries: 0 } });
  const branches = new GitHubBranchStore(octokit as unknown as GitHubApi, {
    owner: 'acme',
    repo: 'cfg',
    defaultBranch: 'main',
  });
  try {
    // A branch from the templates: one GraphQL read of both heads, tree, commit, ref.
    const files = renderBranchFiles(
      await loadTemplates(),
      templateVars({ name: envName('dev'), provider: 'k3d' }, settings),
    );
    github.calls.length = 0;
    await branches.ensure(envName('dev'), files, 'bench');
    const create = github.calls.length;

    // A pull request's head with 20 files under deploy/, deployed once, then pushed again with
    // one file changed. What was read before is kept (the database's git_objects, here a map).
    const kept = new Map<string, string>();
    const heads = new GitHubHeadSource(async () => octokit as unknown as GitHubReadApi, {
      gitObjects: async (ids) =>
        new Map(ids.flatMap((id) => (kept.has(id) ? [[id, kept.get(id) as string]] : []))),
      keepGitObjects: async (objects) => void objects.forEach((v, k) => kept.set(k, v)),
    });
    let env = {
      name: envName('pr-7'),
      provider: 'k3d',
      source: { repo: REPO, sha: '', by: 'bench' },
      deployed: null,
    } as unknown as Environment;
    const step = new BranchStep(
      branches,
      async (e, at) => {
        const rendered = renderBranchFiles(
          (await heads.files(REPO, at as string)) ?? [],
          templateVars(e, settings),
        );
        validateDeploy(rendered, `whoami.${e.name}.example.test`);
        return rendered;
      },
      'main',
      async (_name, deployed) => void (env = { ...env, deployed }),
    );
    const chart: Record<string, string> = {
      'deploy/Chart.yaml': 'apiVersion: v2\nname: preview\nversion: 0.1.0\n',
    };
    for (let i = 0; i < 19; i++)
      chart[`deploy/templates/c${i}.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  env: \${KINDLER_ENV}\n`;
    const first = github.commit(REPO, 'feature', chart);
    const ctx = (headSha: string) => ({
      env,
      headSha,
      log: () => undefined,
      signal: new AbortController().signal,
    });
    await step.ensure(ctx(first));
    const second = github.commit(REPO, 'feature', {
      'deploy/templates/c7.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c7\n',
    });
    github.calls.length = 0;
    await step.ensure(ctx(second));
    const redeploy = github.calls.length;
    if (github.files(REPO, 'pr-7', 'deploy/')['deploy/templates/c7.yaml']?.includes('env:'))
      throw new Error('the re-deploy did not write the changed file');
    return [
      {
        name: 'GitHub API requests per branch creation',
        value: create,
        unit: 'requests',
        goal: '≤ 4',
      },
      {
        name: "GitHub API requests per re-deploy (head's deploy/: 20 files, 1 changed)",
        value: redeploy,
        unit: 'requests',
        goal: '≤ 6',
      },
    ];
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
  }
}
