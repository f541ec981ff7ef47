// The git CLI backend against a real bare repository: create, idempotence, update, concurrency,
// reserved names, archive, and credentials that never reach argv or errors.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError, envName, type Environment } from '../../src/domain/index.js';
import { BranchStep, DEPLOY_PREFIX, branchDrift } from '../../src/git/branch-step.js';
import { GitCliBranchStore } from '../../src/git/git-cli-branch-store.js';
import { loadTemplates } from '../../src/git/templates.js';
import { treeSha } from '../../src/git/tree-hash.js';
import { rejection } from '../support/rejection.js';
import { renderBranchFiles, templateVars } from '../../src/git/manifests.js';
import { assess } from '../support/assess.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-git-test-'));
const remote = path.join(tmp, 'remote.git');
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
  }).trim();
const author = { name: 'kindler-bot', email: 'bot@example.test' };

beforeAll(() => {
  git('init', '--quiet', '--bare', '--initial-branch=main', remote);
  // A config repo with a main branch holding a README and an old deploy/ folder.
  const work = path.join(tmp, 'work');
  git('init', '--quiet', '--initial-branch=main', work);
  fs.writeFileSync(path.join(work, 'README.md'), '# config\n');
  fs.mkdirSync(path.join(work, 'deploy'));
  fs.writeFileSync(path.join(work, 'deploy', 'old.yaml'), 'old: true\n');
  execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.']);
  execFileSync('git', [
    '-C',
    work,
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@t',
    'commit',
    '--quiet',
    '-m',
    'init',
  ]);
  execFileSync('git', ['-C', work, 'push', '--quiet', remote, 'main']);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const store = new GitCliBranchStore({
  url: remote,
  defaultBranch: 'main',
  author,
  timeoutMs: 20_000,
});
const files = [
  { path: 'deploy/values.yaml', content: 'host: whoami.dev.example.test\n' },
  { path: 'deploy/templates/service.yaml', content: 'kind: Service\n' },
];
const show = (ref: string, file: string) => git(`--git-dir=${remote}`, 'show', `${ref}:${file}`);

describe('git CLI branch store', () => {
  it('creates the branch from main with exactly the deploy/ files', async () => {
    expect(await store.ensure(envName('dev'), files, 'manifests for dev')).toBe('created');
    expect(git(`--git-dir=${remote}`, 'ls-tree', '-r', '--name-only', 'dev').split('\n')).toEqual([
      'README.md',
      'deploy/templates/service.yaml',
      'deploy/values.yaml',
    ]);
    expect(show('dev', 'deploy/values.yaml')).toBe('host: whoami.dev.example.test');
    expect(git(`--git-dir=${remote}`, 'log', '--format=%an <%ae>|%s', '-1', 'dev')).toBe(
      'kindler-bot <bot@example.test>|manifests for dev',
    );
    expect(git(`--git-dir=${remote}`, 'rev-parse', 'dev~1')).toBe(
      git(`--git-dir=${remote}`, 'rev-parse', 'main'),
    );
  });

  it('is idempotent, updates on change, and reads files back', async () => {
    const before = (await store.get('dev'))?.sha;
    expect(await store.ensure(envName('dev'), files, 'again')).toBe('unchanged');
    expect((await store.get('dev'))?.sha).toBe(before);
    const changed = [{ ...files[0]!, content: 'host: other\n' }, files[1]!];
    expect(await store.ensure(envName('dev'), changed, 'update')).toBe('updated');
    expect(git(`--git-dir=${remote}`, 'rev-parse', 'dev~1')).toBe(before);
    expect(await store.readFiles('dev', 'deploy/')).toEqual([changed[1], changed[0]]);
    expect(await store.readFiles('nope', 'deploy/')).toBeNull();
  });

  it('writes a branch with one git process: every blob, tree and the commit by one fast-import', async () => {
    // A git on PATH that logs each subcommand, then runs the real one.
    const shim = path.join(tmp, 'count-shim');
    const log = path.join(tmp, 'git-calls.log');
    fs.mkdirSync(shim, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(
      path.join(shim, 'git'),
      `#!/bin/sh\necho "$1" >> '${log}'\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    const oddFiles = [
      { path: 'deploy/a b/"quoted" \\ name.yaml', content: 'ä: ü\n' },
      { path: 'deploy/x/y/z.yaml', content: 'no final newline' },
      ...files,
    ];
    const saved = process.env.PATH;
    process.env.PATH = `${shim}${path.delimiter}${saved}`;
    try {
      expect(await store.ensure(envName('one-proc'), oddFiles, 'one process')).toBe('created');
      const created = fs.readFileSync(log, 'utf8').trim().split('\n');
      fs.rmSync(log);
      expect(await store.ensure(envName('one-proc'), oddFiles, 'again')).toBe('unchanged');
      const unchanged = fs.readFileSync(log, 'utf8').trim().split('\n');
      expect(created).toEqual(['ls-remote', 'fetch', 'fast-import', 'push']);
      expect(unchanged).toEqual(['ls-remote', 'fetch', 'rev-parse']);
    } finally {
      process.env.PATH = saved;
    }
    expect(await store.readFiles('one-proc', 'deploy/')).toEqual(
      [...oddFiles].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    expect(git(`--git-dir=${remote}`, 'rev-parse', 'one-proc:deploy')).toBe(
      treeSha(oddFiles, 'deploy/'),
    );
    expect(git(`--git-dir=${remote}`, 'rev-parse', 'one-proc~1')).toBe(
      git(`--git-dir=${remote}`, 'rev-parse', 'main'),
    );
    expect(show('one-proc', 'README.md')).toBe('# config');
    expect(await store.remove(envName('one-proc'))).toBe('deleted');
  });

  it('two concurrent ensures of different branches both land', async () => {
    const results = await Promise.all(
      ['c-1', 'c-2', 'c-3'].map((n) => store.ensure(envName(n), files, n)),
    );
    expect(results).toEqual(['created', 'created', 'created']);
    expect((await store.list()).map((b) => b.name).sort()).toEqual([
      'c-1',
      'c-2',
      'c-3',
      'dev',
      'main',
    ]);
  });

  it('two writers of one branch at once: one lands, the other is told to try again, and then finds it there', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => store.ensure(envName('race-1'), files, 'race')),
    );
    const landed = results.filter((r) => r.status === 'fulfilled');
    expect(landed.length).toBeGreaterThanOrEqual(1);
    for (const r of results)
      if (r.status === 'rejected') {
        // Never an overwrite: the lease refused it, and it is worth trying again.
        expect(r.reason).toBeInstanceOf(TransientError);
        expect(String(r.reason.message)).toMatch(
          /\[(remote )?rejected\].*\((stale info|fetch first|failed to update ref)\)/,
        );
      }
    expect(await store.ensure(envName('race-1'), files, 'again')).toBe('unchanged');
  });

  it('refuses reserved branches whatever the input', async () => {
    for (const name of ['main', 'master', 'develop', 'release', 'devops']) {
      await expect(store.remove(name as never)).rejects.toThrow(`branch "${name}" is reserved`);
      await expect(store.ensure(name as never, files, 'x')).rejects.toThrow('is reserved');
    }
    await expect(store.archive('main', 'archive/main-1')).rejects.toThrow('is reserved');
    await expect(store.archive('dev', 'dev-old')).rejects.toThrow(
      'archive branch "dev-old" must be under archive/',
    );
    expect(git(`--git-dir=${remote}`, 'rev-parse', '--verify', 'main')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('archives then deletes; deleting again reports absence', async () => {
    const sha = (await store.get('c-1'))?.sha;
    await store.archive('c-1', 'archive/c-1-20260101T000000');
    expect(await store.get('c-1')).toBeNull();
    expect((await store.get('archive/c-1-20260101T000000'))?.sha).toBe(sha);
    expect(await store.remove(envName('c-2'))).toBe('deleted');
    expect(await store.remove(envName('c-2'))).toBe('absent');
  });

  it('lists every branch with the deploy/ tree id git itself computes, matching treeSha of the files', async () => {
    await store.ensure(envName('t-1'), files, 'trees');
    const trees = await store.trees('deploy/');
    const byName = new Map(trees.map((t) => [t.name, t]));
    expect(byName.get('t-1')?.tree).toBe(git(`--git-dir=${remote}`, 'rev-parse', 't-1:deploy'));
    expect(byName.get('t-1')?.tree).toBe(treeSha(files, 'deploy/'));
    expect(byName.get('t-1')?.sha).toBe(git(`--git-dir=${remote}`, 'rev-parse', 't-1'));
    expect(byName.get('main')?.tree).toBe(git(`--git-dir=${remote}`, 'rev-parse', 'main:deploy'));
    expect(treeSha([{ path: 'deploy/other.yaml', content: 'x\n' }, ...files], 'deploy/')).not.toBe(
      byName.get('t-1')?.tree,
    );
  });

  it('reads a head once: what a listing learned is kept, and only a moved head is read again', async () => {
    const kept = new Map<string, string>();
    const asked: string[][] = [];
    const cached = new GitCliBranchStore({
      url: remote,
      defaultBranch: 'main',
      author,
      timeoutMs: 20_000,
      cache: {
        gitObjects: async (ids) =>
          new Map(ids.flatMap((id) => (kept.has(id) ? [[id, kept.get(id) as string]] : []))),
        keepGitObjects: async (objects) => {
          asked.push([...objects.keys()]);
          objects.forEach((v, k) => kept.set(k, v));
        },
      },
    });
    const first = await cached.trees('deploy/');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toHaveLength(first.length);
    expect(await cached.trees('deploy/')).toEqual(first);
    expect(asked).toHaveLength(1); // nothing new learned: no head was fetched
    await store.ensure(envName('t-1'), [{ path: 'deploy/moved.yaml', content: 'x\n' }], 'moved');
    const again = await cached.trees('deploy/');
    expect(asked[1]).toEqual([`dir:${git(`--git-dir=${remote}`, 'rev-parse', 't-1')}:deploy`]);
    expect(again.find((t) => t.name === 't-1')?.tree).toBe(
      treeSha([{ path: 'deploy/moved.yaml', content: 'x\n' }], 'deploy/'),
    );
    expect(await store.trees('deploy/')).toEqual(again); // the same as without a cache
  });

  it('works on an empty remote (no default branch): an orphan commit', async () => {
    const empty = path.join(tmp, 'empty.git');
    git('init', '--quiet', '--bare', empty);
    const s = new GitCliBranchStore({
      url: empty,
      defaultBranch: 'main',
      author,
      timeoutMs: 20_000,
    });
    expect(await s.trees('deploy/')).toEqual([]);
    expect(await s.ensure(envName('dev'), files, 'first')).toBe('created');
    expect(git(`--git-dir=${empty}`, 'rev-list', '--count', 'dev')).toBe('1');
  });

  it('never puts the password in argv or in an error', async () => {
    const shim = path.join(tmp, 'shim');
    fs.mkdirSync(shim);
    const log = path.join(tmp, 'argv.log');
    const realGit = execFileSync('which', ['git'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(
      path.join(shim, 'git'),
      `#!/bin/sh\necho "$@" >> ${log}\nexec ${realGit} "$@"\n`,
      { mode: 0o755 },
    );
    const saved = process.env.PATH;
    process.env.PATH = `${shim}:${saved}`;
    try {
      const secret = 's3cr3t-Pa55word';
      const s = new GitCliBranchStore({
        url: `http://kindler:${secret}@127.0.0.1:9/org/repo.git`,
        defaultBranch: 'main',
        author,
        timeoutMs: 20_000,
      });
      expect(s.description).toBe('git http://127.0.0.1:9/org/repo.git');
      const error = await rejection(s.ensure(envName('dev'), files, 'x'));
      expect(error.message).toMatch(
        /^writing branch "dev" in git http:\/\/127\.0\.0\.1:9\/org\/repo\.git: git exited 128: /,
      );
      expect(error.message).not.toContain(secret);
      expect(fs.readFileSync(log, 'utf8')).not.toContain(secret);
      expect(fs.readFileSync(log, 'utf8')).toContain(
        'ls-remote --heads http://127.0.0.1:9/org/repo.git',
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('branch step with the real templates', () => {
  const env = { name: envName('uat'), provider: 'kind' } as Environment;
  const render = async (e: Environment) =>
    renderBranchFiles(
      await loadTemplates(),
      templateVars(e, { baseDomain: '192.168.51.30.sslip.io', ingressClass: 'traefik' }),
    );
  const step = new BranchStep(store, render, 'main', async () => {
    throw new Error('a branch from the templates records no deploy');
  });
  const ctx = { env, log: () => undefined, signal: new AbortController().signal };

  it('creates, finds it present, notices drift, removes', async () => {
    const tree = treeSha(await render(env), DEPLOY_PREFIX);
    const sync = { verb: 'sync', args: ['uat'] };
    expect(await assess(step, env, { tree })).toEqual([
      { kind: 'missing', system: 'git', detail: 'no branch "uat"', fix: sync },
    ]);
    expect(await step.ensure(ctx)).toBe(`created branch "uat" in git ${remote}`);
    expect(show('uat', 'deploy/values.yaml')).toContain('host: whoami.uat.192.168.51.30.sslip.io');
    expect(show('uat', 'deploy/values.yaml')).toContain('className: traefik');
    expect(await assess(step, env, { tree })).toEqual([]);
    await store.ensure(
      envName('uat'),
      [{ path: 'deploy/values.yaml', content: 'tampered\n' }],
      'tamper',
    );
    expect(await assess(step, env, { tree })).toEqual([
      {
        kind: 'mismatch',
        system: 'git',
        detail: 'deploy/ differs from what the templates render now',
        fix: sync,
      },
    ]);
    expect(branchDrift((await store.readFiles('uat', DEPLOY_PREFIX))!, await render(env))).toEqual([
      'deploy/Chart.yaml missing',
      'deploy/templates/deployment.yaml missing',
      'deploy/templates/ingress.yaml missing',
      'deploy/templates/service.yaml missing',
      'deploy/values.yaml differs',
    ]);
    expect(await step.ensure(ctx)).toBe(`updated branch "uat" in git ${remote}`);
    expect(await step.remove(ctx)).toBe('deleted branch "uat"');
    expect(await step.remove(ctx)).toBe('branch "uat" already absent');
  });
});

describe('how Argo CD reaches the branches', () => {
  const at = (url: string, extra: object = {}) =>
    new GitCliBranchStore({ url, defaultBranch: 'main', author, timeoutMs: 1000, ...extra });

  it('refuses a repository on this machine, which the devops cluster cannot clone', async () => {
    for (const url of [remote, `file://${remote}`]) {
      const error = await rejection(at(url).access());
      expect(error.message).toContain('Argo CD cannot clone');
      expect(error.message).toContain('To resolve, set GIT_REPO_URL');
    }
  });

  it('gives a remote URL without user-info, with its credentials as repository-Secret fields', async () => {
    expect(await at('https://bot:s3cret@git.example.test/org/gitops.git').access()).toEqual({
      url: 'https://git.example.test/org/gitops.git',
      credentials: { username: 'bot', password: 's3cret' },
    });
    expect(await at('git@git.example.test:org/gitops.git').access()).toEqual({
      url: 'git@git.example.test:org/gitops.git',
      credentials: {},
    });
  });
});
