// GitHub API requests for one branch creation through the Git Database API, counted at the HTTP
// layer with nock (every request must match a mock, so none is missed).
import { Octokit } from '@octokit/rest';
import nock from 'nock';
import { envName } from '../src/domain/index.js';
import { GitHubBranchStore } from '../src/git/github-branch-store.js';
import { loadTemplates } from '../src/git/templates.js';
import { renderBranchFiles, templateVars } from '../src/render/manifests.js';
import type { Figure } from './figure.js';

export async function githubCallsPerBranch(): Promise<Figure[]> {
  nock.disableNetConnect();
  let requests = 0;
  const R = '/repos/acme/cfg';
  const scope = nock('https://api.github.com')
    .post('/graphql')
    .reply(200, {
      data: {
        repository: {
          b0: null,
          b1: { target: { oid: 'a'.repeat(40), tree: { oid: 'b'.repeat(40) } } },
        },
      },
    })
    .post(`${R}/git/trees`)
    .reply(201, { sha: 'c'.repeat(40) })
    .post(`${R}/git/commits`)
    .reply(201, { sha: 'd'.repeat(40) })
    .post(`${R}/git/refs`)
    .reply(201, {});
  scope.on('request', () => requests++);
  const store = new GitHubBranchStore(new Octokit({ request: { retries: 0 } }), {
    owner: 'acme',
    repo: 'cfg',
    defaultBranch: 'main',
  });
  const files = renderBranchFiles(
    await loadTemplates(),
    templateVars(
      { name: envName('dev'), provider: 'k3d' },
      { baseDomain: 'example.test', ingressClass: 'traefik' },
    ),
  );
  await store.ensure(envName('dev'), files, 'bench');
  if (!scope.isDone()) throw new Error('not every expected GitHub request was made');
  nock.cleanAll();
  nock.enableNetConnect();
  // One GraphQL read of both heads (does the branch exist? the default branch's commit and tree), tree, commit, ref.
  return [
    {
      name: 'GitHub API requests per branch creation',
      value: requests,
      unit: 'requests',
      goal: '≤ 4',
    },
  ];
}
