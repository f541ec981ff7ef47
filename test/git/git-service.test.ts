// The built-in Git service with the real git client: the environment repository under the data
// dir is cloned and listed with its credential over smart HTTP (git http-backend), refused without
// it (401) or with a wrong one, and never pushed to.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/domain/index.js';
import { GitCliBranchStore } from '../../src/git/git-cli-branch-store.js';
import { localBareRepo } from '../../src/git/git-repos.js';
import { treeSha } from '../../src/git/tree-hash.js';
import {
  ensureGitServicePassword,
  gitServiceAccess,
  gitServicePassword,
} from '../../src/git/git-service.js';
import { gitHttpHandler } from '../../src/server/git-http.js';
import { startHttpServer } from '../../src/server/http-server.js';

let tmp: string;
let server: http.Server;
let base: string;
let password: string;

/**
 * git with no credential helper, no prompt and no inherited configuration; asynchronous, since the
 * server answering it runs in this process.
 */
const git = (args: string[], cwd = tmp) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: tmp,
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
        },
      },
      (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
const withCredential = (url: string, user: string, pass: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = pass;
  return u.toString();
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-git-service-'));
  const dataDir = path.join(tmp, 'data');
  const repo = await localBareRepo(dataDir);
  const store = new GitCliBranchStore({
    url: repo,
    defaultBranch: 'main',
    author: { name: 'kindler-bot', email: 'bot@example.test' },
    timeoutMs: 30_000,
  });
  await store.ensure(
    envName('dev'),
    [{ path: 'deploy/cm.yaml', content: 'apiVersion: v1\nkind: ConfigMap\n' }],
    'dev',
  );
  password = ensureGitServicePassword(dataDir);
  server = await startHttpServer(
    [gitHttpHandler({ projectRoot: path.join(dataDir, 'git'), password })],
    '127.0.0.1',
    0,
  );
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the built-in Git service', () => {
  it('keeps one password, readable by this user only, the same for every process', () => {
    const dataDir = path.join(tmp, 'data');
    expect(fs.statSync(path.join(dataDir, 'git-service.password')).mode & 0o777).toBe(0o600);
    expect(ensureGitServicePassword(dataDir)).toBe(password);
    expect(gitServicePassword(dataDir)).toBe(password);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('answers ls-remote and a clone with the credential Argo CD is given', async () => {
    const access = gitServiceAccess(base, password);
    expect(access).toEqual({
      url: `${base}/kindler/git/environments.git`,
      credentials: { username: 'kindler', password },
    });
    const url = withCredential(access.url, 'kindler', password);
    const listed = await git(['ls-remote', '--heads', url]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/dev$/m);
    // Protocol v2 (git's default) and v0 both work.
    const v0 = await git(['-c', 'protocol.version=0', 'ls-remote', '--heads', url]);
    expect(v0.stdout).toContain('refs/heads/dev');
    const cloned = await git(['clone', '--quiet', '--branch', 'dev', url, 'checkout']);
    expect(cloned.status, cloned.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'checkout/deploy/cm.yaml'), 'utf8')).toContain(
      'ConfigMap',
    );
  });

  it("lets a check read the branches' deploy/ trees: one shallow fetch of the heads by their ids", async () => {
    const access = gitServiceAccess(base, password);
    const store = new GitCliBranchStore({
      url: access.url,
      username: 'kindler',
      password,
      defaultBranch: 'main',
      author: { name: 'kindler-bot', email: 'bot@example.test' },
      timeoutMs: 30_000,
    });
    const deploy = treeSha(
      [{ path: 'deploy/cm.yaml', content: 'apiVersion: v1\nkind: ConfigMap\n' }],
      'deploy/',
    );
    expect(await store.trees('deploy/')).toEqual([
      { name: 'dev', sha: expect.stringMatching(/^[0-9a-f]{40}$/), tree: deploy },
    ]);
  });

  it('refuses a client without the credential (401) or with a wrong one', async () => {
    const url = `${base}/kindler/git/environments.git`;
    const anonymous = await git(['ls-remote', url]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toMatch(/could not read Username|Authentication failed|401/);
    const wrong = await git(['ls-remote', withCredential(url, 'kindler', 'not-the-password')]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/Authentication failed|401/);
    const raw = await fetch(`${url}/info/refs?service=git-upload-pack`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Basic realm="kindler-git"');
  });

  it('refuses a push, and the branch is unchanged', async () => {
    const url = withCredential(`${base}/kindler/git/environments.git`, 'kindler', password);
    const work = path.join(tmp, 'checkout');
    const before = (await git(['ls-remote', url, 'refs/heads/dev'])).stdout;
    fs.writeFileSync(path.join(work, 'deploy/evil.yaml'), 'kind: Secret\n');
    execFileSync('git', ['add', '.'], { cwd: work });
    execFileSync(
      'git',
      ['-c', 'user.name=x', '-c', 'user.email=x@example.test', 'commit', '-qm', 'evil'],
      { cwd: work },
    );
    const pushed = await git(['push', url, 'HEAD:dev'], work);
    expect(pushed.status).not.toBe(0);
    expect(pushed.stderr).toMatch(/403|read-only/);
    expect((await git(['ls-remote', url, 'refs/heads/dev'])).stdout).toBe(before);
  });

  it('serves only the environment repository, and nothing outside it', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from(`kindler:${password}`).toString('base64')}`,
    };
    for (const p of [
      '/kindler/git/other.git/info/refs?service=git-upload-pack',
      '/kindler/git/environments.git/../environments.git/HEAD',
      '/kindler/git/environments.git/HEAD',
      '/kindler/git/environments.git/objects/info/packs',
    ]) {
      const res = await fetch(`${base}${p}`, { headers: auth });
      expect(res.status, p).toBe(404);
    }
  });
});
