// A pull request's head as a source of deploy/, read through GitHub's GraphQL API (the stateful
// stand-in runs the documents on GitHub's schema): the listing and the blobs in two requests, what
// was read kept by id and never read again, and bounds checked before anything is downloaded.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Failure } from '../../src/domain/index.js';
import { GitHubHeadSource, type GitHubReadApi } from '../../src/git/github-head.js';
import { ContractOctokit, expectNoContractViolations } from '../support/github-contract.js';
import { GitHubGit } from '../support/github-git.js';

const REPO = 'acme/app';
const octokit = new ContractOctokit({ auth: 'ghs_test0123456789', request: { retries: 0 } });
let github: GitHubGit;
let kept: Map<string, string>;
let source: GitHubHeadSource;

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
beforeEach(() => {
  github = new GitHubGit();
  github.repo(REPO);
  github.intercept();
  kept = new Map();
  source = new GitHubHeadSource(async () => octokit as unknown as GitHubReadApi, {
    gitObjects: async (ids) =>
      new Map(ids.flatMap((id) => (kept.has(id) ? [[id, kept.get(id) as string]] : []))),
    keepGitObjects: async (objects) => void objects.forEach((v, k) => kept.set(k, v)),
  });
});
afterEach(() => {
  expectNoContractViolations();
  nock.cleanAll();
});

describe("a pull request's head", () => {
  it('is read in two requests, nested folders included, and never again', async () => {
    const sha = github.commit(REPO, 'feature', {
      'deploy/Chart.yaml': 'apiVersion: v2\n',
      'deploy/templates/a/b/c.yaml': 'kind: x\n',
      'deploy/same-1.yaml': 'same\n',
      'deploy/same-2.yaml': 'same\n',
      'src/main.go': 'package main\n',
    });
    expect(await source.files(REPO, sha)).toEqual([
      { path: 'deploy/Chart.yaml', content: 'apiVersion: v2\n' },
      { path: 'deploy/same-1.yaml', content: 'same\n' },
      { path: 'deploy/same-2.yaml', content: 'same\n' },
      { path: 'deploy/templates/a/b/c.yaml', content: 'kind: x\n' },
    ]);
    expect(github.calls).toEqual(['POST /graphql', 'POST /graphql']);
    github.calls.length = 0;
    expect(await source.files(REPO, sha)).toHaveLength(4);
    expect(github.calls).toEqual([]);
    // A newer head sharing every blob but one: its listing, then that one blob.
    const next = github.commit(REPO, 'feature', { 'deploy/same-2.yaml': 'changed\n' });
    await source.files(REPO, next);
    expect(github.calls).toEqual(['POST /graphql', 'POST /graphql']);
    expect([...kept.keys()].filter((k) => k.startsWith('blob:'))).toHaveLength(4);
  });

  it('without deploy/ is null; a commit that is not there is refused', async () => {
    const sha = github.commit(REPO, 'plain', { 'README.md': 'x\n' });
    expect(await source.files(REPO, sha)).toBeNull();
    await expect(source.files(REPO, 'f'.repeat(40))).rejects.toThrow(
      `commit fffffff is not in ${REPO} (force-pushed away?); nothing was deployed`,
    );
  });

  it('holding too many files is refused before any blob is read', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 201 }, (_, i) => [`deploy/f${i}.yaml`, `i: ${i}\n`]),
    );
    const sha = github.commit(REPO, 'big', files);
    const error = await source.files(REPO, sha).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Failure);
    expect((error as Failure).message).toMatch(
      /^deploy\/ of acme\/app@[0-9a-f]{7} holds 201 files, \d+ bytes: more than a deploy takes \(200 files, 2000000 bytes\); nothing was deployed$/,
    );
    expect(github.calls).toEqual(['POST /graphql']);
  });

  it('a binary file is refused, naming it', async () => {
    const sha = github.commit(REPO, 'bin', { 'deploy/logo.png': 'PNG\u0000data' });
    await expect(source.files(REPO, sha)).rejects.toThrow(
      'deploy/logo.png: a binary file is not deployed; deploy/ holds text manifests only',
    );
  });
});
