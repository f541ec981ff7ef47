// The GitHub Git Database API backend with strict nock: the exact calls for a new branch (4), an
// unchanged one (1), an update (all of deploy/ read, or only the changes sent when the caller knows
// what it holds), delete (204 and 422-absent), GraphQL listing in pages, 503.
import { appPrivateKey } from '../support/github-fixtures.js';
import { createProbot } from 'probot';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransientError, envName } from '../../src/domain/index.js';
import { GitHubBranchStore, blobSha } from '../../src/git/github-branch-store.js';
import { treeSha } from '../../src/git/tree-hash.js';
import { loadConfig } from '../../src/config/config.js';
import { configRepoBranches } from '../../src/github/config-repo.js';
import { rejection } from '../support/rejection.js';
import { refsServer } from '../support/github-refs.js';
import {
  ContractOctokit,
  ContractProbotOctokit,
  expectNoContractViolations,
} from '../support/github-contract.js';

const API = 'https://api.github.com';
const octokit = new ContractOctokit({
  auth: 'ghs_installationtoken0123456789abcdefXYZ',
  request: { retries: 0 },
});
const store = new GitHubBranchStore(octokit, {
  owner: 'acme',
  repo: 'platform-config',
  defaultBranch: 'main',
  author: { name: 'kindler-bot', email: 'bot@example.test' },
});
const files = [
  { path: 'deploy/values.yaml', content: 'host: whoami.dev.example.test\n' },
  { path: 'deploy/Chart.yaml', content: 'name: whoami\n' },
];
/** The GraphQL answer for both heads: commit, root tree and (when given) the deploy/ tree id. */
const heads = (env: [string, string, string?] | null, main: [string, string, string?] | null) => {
  const ref = (h: [string, string, string?] | null) =>
    h ? { target: { oid: h[0], tree: { oid: h[1] }, file: h[2] ? { oid: h[2] } : null } } : null;
  return { data: { repository: { b0: ref(env), b1: ref(main) } } };
};
const branch = (sha: string, tree: string) => ({
  name: 'x',
  commit: { sha, commit: { tree: { sha: tree } } },
});
const R = '/repos/acme/platform-config';

let calls: string[] = [];
beforeAll(() => {
  nock.disableNetConnect();
  nock.emitter.on('no match', (req: { method?: string; path?: string }) =>
    calls.push(`UNMATCHED ${req.method} ${req.path}`),
  );
});
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  expectNoContractViolations();
  expect(nock.pendingMocks()).toEqual([]);
  expect(calls.filter((c) => c.startsWith('UNMATCHED'))).toEqual([]);
  calls = [];
  nock.cleanAll();
});

describe('GitHub branch store', () => {
  it('creates a branch in 4 calls: one GraphQL read of both heads, createTree, createCommit, createRef', async () => {
    const scope = nock(API)
      .post(
        '/graphql',
        (b) =>
          b.variables.q0 === 'refs/heads/dev' &&
          b.variables.q1 === 'refs/heads/main' &&
          b.query.includes('b0: ref(qualifiedName: $q0)'),
      )
      .reply(200, heads(null, ['a'.repeat(40), 't'.repeat(40)]))
      .post(`${R}/git/trees`, {
        base_tree: 't'.repeat(40),
        tree: files.map((f) => ({
          path: f.path,
          mode: '100644',
          type: 'blob',
          content: f.content,
        })),
      })
      .reply(201, { sha: 'n'.repeat(40) })
      .post(`${R}/git/commits`, {
        message: 'manifests',
        tree: 'n'.repeat(40),
        parents: ['a'.repeat(40)],
        author: { name: 'kindler-bot', email: 'bot@example.test' },
      })
      .reply(201, { sha: 'c'.repeat(40) })
      .post(`${R}/git/refs`, { ref: 'refs/heads/dev', sha: 'c'.repeat(40) })
      .reply(201, { ref: 'refs/heads/dev' });
    expect(await store.ensure(envName('dev'), files, 'manifests')).toBe('created');
    expect(scope.isDone()).toBe(true);
  });

  it('finds an unchanged branch in one call (its deploy/ tree id against the one computed here)', async () => {
    nock(API)
      .post('/graphql', (b) => b.query.includes('file(path: "deploy") { oid }'))
      .reply(
        200,
        heads(
          ['c'.repeat(40), 'n'.repeat(40), treeSha(files, 'deploy/')],
          ['a'.repeat(40), 't'.repeat(40)],
        ),
      );
    expect(await store.ensure(envName('dev'), files, 'manifests')).toBe('unchanged');
  });

  it('sends only the files that changed when the caller knows what deploy/ holds', async () => {
    const known = [{ path: 'deploy/values.yaml', content: 'old\n' }, files[1]!];
    nock(API)
      .post('/graphql')
      .reply(
        200,
        heads(
          ['c'.repeat(40), 'n'.repeat(40), treeSha(known, 'deploy/')],
          ['a'.repeat(40), 't'.repeat(40)],
        ),
      )
      .post(`${R}/git/trees`, {
        base_tree: 'n'.repeat(40),
        tree: [
          { path: 'deploy/values.yaml', mode: '100644', type: 'blob', content: files[0]!.content },
        ],
      })
      .reply(201, { sha: 'm'.repeat(40) })
      .post(`${R}/git/commits`, (b) => b.parents[0] === 'c'.repeat(40))
      .reply(201, { sha: 'd'.repeat(40) })
      .patch(`${R}/git/refs/heads%2Fdev`, { sha: 'd'.repeat(40), force: false })
      .reply(200, {});
    expect(await store.ensure(envName('dev'), files, 'manifests', known)).toBe('updated');
  });

  it('updates a drifted branch: stale files deleted, fast-forward only', async () => {
    nock(API)
      .post('/graphql')
      .reply(
        200,
        heads(['c'.repeat(40), 'n'.repeat(40), 'p'.repeat(40)], ['a'.repeat(40), 't'.repeat(40)]),
      )
      // deploy/'s own tree: paths relative to it.
      .get(`${R}/git/trees/${'p'.repeat(40)}`)
      .query({ recursive: 'true' })
      .reply(200, {
        tree: [
          { path: 'values.yaml', type: 'blob', sha: blobSha('old\n') },
          { path: 'old.yaml', type: 'blob', sha: 'o'.repeat(40) },
        ],
      })
      .post(
        `${R}/git/trees`,
        (b) =>
          b.base_tree === 'n'.repeat(40) &&
          b.tree.length === 3 &&
          b.tree[2].path === 'deploy/old.yaml' &&
          b.tree[2].sha === null,
      )
      .reply(201, { sha: 'm'.repeat(40) })
      .post(`${R}/git/commits`, (b) => b.parents[0] === 'c'.repeat(40))
      .reply(201, { sha: 'd'.repeat(40) })
      .patch(`${R}/git/refs/heads%2Fdev`, { sha: 'd'.repeat(40), force: false })
      .reply(200, {});
    expect(await store.ensure(envName('dev'), files, 'manifests')).toBe('updated');
  });

  it('deletes with one call; an absent ref (422) is fine', async () => {
    nock(API).delete(`${R}/git/refs/heads%2Fdev`).reply(204);
    expect(await store.remove(envName('dev'))).toBe('deleted');
    nock(API)
      .delete(`${R}/git/refs/heads%2Fdev`)
      .reply(422, { message: 'Reference does not exist' });
    expect(await store.remove(envName('dev'))).toBe('absent');
  });

  it('lists every branch through GraphQL, 100 from each end per request: 1 request for 3 refs, 6 for 1,002', async () => {
    const small = refsServer(
      ['uat', 'dev', 'main'].map((n) => ({ name: n, target: { oid: `${n}-sha` } })),
    );
    nock(API)
      .post('/graphql', (b) => !b.query.includes('file(path:'))
      .reply(200, small.reply);
    expect(await store.list()).toEqual([
      { name: 'dev', sha: 'dev-sha' },
      { name: 'main', sha: 'main-sha' },
      { name: 'uat', sha: 'uat-sha' },
    ]);
    expect(small.calls).toBe(1);

    const names = [
      'main',
      'devops',
      ...Array.from({ length: 1000 }, (_, i) => `env-${String(i).padStart(4, '0')}`),
    ];
    const large = refsServer(names.map((n) => ({ name: n, target: { oid: `${n}-sha` } })));
    nock(API).post('/graphql').times(6).reply(200, large.reply);
    const listed = await store.list();
    expect(listed.map((b) => b.name)).toEqual([...names].sort());
    expect(listed.find((b) => b.name === 'env-0500')).toEqual({
      name: 'env-0500',
      sha: 'env-0500-sha',
    });
    expect(large.calls).toBe(6);
  });

  it('lists every branch with its deploy/ tree id in the same requests (null when the branch has none)', async () => {
    const node = (n: string, tree: string | null) => ({
      name: n,
      target: { oid: `${n}-sha`, file: tree ? { oid: tree } : null },
    });
    const names = Array.from({ length: 250 }, (_, i) => `e-${String(i).padStart(3, '0')}`);
    const refs = refsServer([node('main', null), ...names.map((n) => node(n, `${n}-tree`))]);
    nock(API)
      .post(
        '/graphql',
        (b) => b.query.includes('file(path: $path) { oid }') && b.variables.path === 'deploy',
      )
      .times(2)
      .reply(200, refs.reply);
    const trees = await store.trees('deploy/');
    expect(trees).toHaveLength(251);
    expect(trees[0]).toEqual({ name: 'e-000', sha: 'e-000-sha', tree: 'e-000-tree' });
    expect(trees.find((t) => t.name === 'main')).toEqual({
      name: 'main',
      sha: 'main-sha',
      tree: null,
    });
    expect(refs.calls).toBe(2);
  });

  it('archives: createRef under archive/, then deleteRef', async () => {
    nock(API)
      .get(`${R}/branches/old`)
      .reply(200, branch('e'.repeat(40), 'f'.repeat(40)))
      .post(`${R}/git/refs`, { ref: 'refs/heads/archive/old-20260101', sha: 'e'.repeat(40) })
      .reply(201, {})
      .delete(`${R}/git/refs/heads%2Fold`)
      .reply(204);
    await store.archive('old', 'archive/old-20260101');
  });

  it('a 503 is transient and names the action; reserved branches are refused before any call', async () => {
    nock(API).post('/graphql').reply(503, { message: 'Service Unavailable' });
    const error = await rejection(store.ensure(envName('dev'), files, 'x'));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(
      /^writing branch "dev" in GitHub acme\/platform-config: GitHub answered 503: Service Unavailable/,
    );
    expect(error.message).not.toContain('ghs_');
    await expect(store.remove('main' as never)).rejects.toThrow('branch "main" is reserved');
  });
});

describe("the app's branch store: the config repo through the installation found from it", () => {
  const privateKey = appPrivateKey();
  const config = loadConfig({
    KINDLER_CONFIG_REPO: 'acme/platform-config',
    KINDLER_DATA_DIR: '/tmp/unused',
  });

  it.each([
    ['github.com', {}, 'https://api.github.com', '/repos', '/graphql'],
    [
      'GitHub Enterprise (GHE_HOST)',
      { GHE_HOST: 'ghe.example.test' },
      'https://ghe.example.test',
      '/api/v3/repos',
      '/api/graphql',
    ],
  ])(
    'on %s: installation lookup, token, then GraphQL pages of refs',
    async (_label, extra, host, rest, graphql) => {
      const probot = createProbot({
        overrides: { Octokit: ContractProbotOctokit },
        env: {
          APP_ID: '42',
          PRIVATE_KEY: privateKey,
          WEBHOOK_SECRET: 'x',
          LOG_LEVEL: 'fatal',
          ...extra,
        },
      });
      const branches = configRepoBranches(probot, config);
      expect(branches?.description).toBe('GitHub acme/platform-config');
      const api = nock(host)
        .get(`${rest}/acme/platform-config/installation`)
        .reply(200, { id: 9 })
        .post(`${rest.replace('/repos', '')}/app/installations/9/access_tokens`)
        .reply(201, {
          token: 'ghs_fromtheinstallation0123',
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        })
        .post(graphql)
        .matchHeader('authorization', 'token ghs_fromtheinstallation0123')
        .reply(200, refsServer([{ name: 'dev', target: { oid: 'a'.repeat(40) } }]).reply);
      expect(await branches?.list()).toEqual([{ name: 'dev', sha: 'a'.repeat(40) }]);
      expect(api.pendingMocks()).toEqual([]);
    },
  );

  it('is not used when GIT_REPO_URL is set, nor without a config repo', () => {
    const probot = createProbot({
      overrides: { Octokit: ContractProbotOctokit },
      env: { APP_ID: '42', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: 'x', LOG_LEVEL: 'fatal' },
    });
    expect(
      configRepoBranches(
        probot,
        loadConfig({
          KINDLER_CONFIG_REPO: 'acme/cfg',
          GIT_REPO_URL: 'https://git.example/cfg.git',
        }),
      ),
    ).toBeNull();
    expect(configRepoBranches(probot, loadConfig({}))).toBeNull();
  });
});

describe('how Argo CD reaches the config repository', () => {
  const app = async () => ({ appId: '123', installationId: 456, privateKey: 'PEM' });
  it("is the repository's clone URL with the GitHub App's credentials", async () => {
    const s = new GitHubBranchStore(octokit, {
      owner: 'acme',
      repo: 'platform-config',
      defaultBranch: 'main',
      app,
    });
    expect(await s.access()).toEqual({
      url: 'https://github.com/acme/platform-config.git',
      credentials: {
        githubAppID: '123',
        githubAppInstallationID: '456',
        githubAppPrivateKey: 'PEM',
      },
    });
  });

  it('honours a GitHub Enterprise host', async () => {
    const s = new GitHubBranchStore(octokit, {
      owner: 'acme',
      repo: 'platform-config',
      defaultBranch: 'main',
      host: 'ghe.example.test',
      app,
    });
    expect(await s.access()).toMatchObject({
      url: 'https://ghe.example.test/acme/platform-config.git',
      credentials: { githubAppEnterpriseBaseUrl: 'https://ghe.example.test/api/v3' },
    });
  });

  it('without App credentials says what to set', async () => {
    await expect(store.access()).rejects.toThrow(/ARGOCD_REPO_URL/);
  });
});
