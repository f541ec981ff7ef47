// Branches on any Git server through the git CLI. Each call works in a private temporary bare
// repository with plumbing commands (no working tree), so concurrent calls never share state.
// Credentials reach git through an askpass script reading the environment: never argv, never a URL.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Failure, type EnvName } from '../domain/index.js';
import { run, type RunOptions } from '../system/exec.js';
import type { Store } from '../store/store.js';
import { treeSha } from './tree-hash.js';
import {
  refuseBadArchive,
  refuseReserved,
  type BranchFile,
  type BranchInfo,
  type BranchStore,
  type BranchTree,
  type Ensured,
  type RepositoryAccess,
} from './branch-store.js';
import {
  ASKPASS,
  gitFailure,
  parseLsRemote,
  bareRepo,
  commitFiles,
  filesAt,
  splitCredentials,
  type Git,
} from './git-repos.js';

export interface GitCliSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  defaultBranch: string;
  author: { name: string; email: string };
  timeoutMs: number;
  /** Directory under which the file for the list prefix lives (ensure writes under `deploy/`). */
  prefix?: string;
  /**
   * Where what a listing learned is kept: a commit's directory tree id never changes, so a
   * branch whose head was read before is not fetched again (the database's git_objects).
   */
  cache?: Pick<Store, 'gitObjects' | 'keepGitObjects'>;
}

export class GitCliBranchStore implements BranchStore {
  readonly description: string;
  private readonly url: string;
  private readonly username: string | undefined;
  private readonly password: string | undefined;

  constructor(private readonly settings: GitCliSettings) {
    const parsed = splitCredentials(settings.url);
    this.url = parsed.url;
    this.username = settings.username ?? parsed.username;
    this.password = settings.password ?? parsed.password;
    this.description = `git ${this.url}`;
  }

  async access(): Promise<RepositoryAccess> {
    // A local path or file:// URL is on this machine only: the devops cluster cannot clone it.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(this.url) && !/^[^/]+@[^/]+:/.test(this.url))
      throw new Failure(
        'not_configured',
        `the branches are kept in ${this.url}, a repository on this machine that Argo CD ` +
          `cannot clone. To resolve, set GIT_REPO_URL to a Git server the devops ` +
          `cluster reaches, or ` +
          `ARGOCD_REPO_URL to where Argo CD finds this repository`,
      );
    if (this.url.startsWith('file://'))
      throw new Failure(
        'not_configured',
        `the branches are kept in ${this.url}, which Argo CD cannot clone. To resolve, set ` +
          `GIT_REPO_URL or ARGOCD_REPO_URL`,
      );
    const credentials: Record<string, string> = {};
    if (this.username) credentials.username = this.username;
    if (this.password) credentials.password = this.password;
    return { url: this.url, credentials };
  }

  async list(): Promise<BranchInfo[]> {
    return this.withRepo(async (git) =>
      parseLsRemote((await git(['ls-remote', '--heads', this.url])).stdout),
    );
  }

  async trees(prefix: string): Promise<BranchTree[]> {
    const dir = prefix.replace(/\/$/, '');
    const idOf = (sha: string) => `dir:${sha}:${dir}`;
    const cache = this.settings.cache;
    // The heads (one ls-remote); a head's tree id is read once, then kept.
    const listed = await this.withRepo(
      async (git) => parseLsRemote((await git(['ls-remote', '--heads', this.url])).stdout),
      `listing branches in ${this.description}`,
    );
    if (listed.length === 0) return [];
    const known = cache ? await cache.gitObjects(listed.map((h) => idOf(h.sha))) : new Map();
    const missing = [...new Set(listed.filter((h) => !known.has(idOf(h.sha))).map((h) => h.sha))];
    if (missing.length) {
      const learned = await this.withRepo(async (git) => {
        // One shallow fetch of the heads not known, by their ids (a refspec per line: a ref
        // written for each head cost 0.9 s at 1,000), then one cat-file for every "<sha>:<dir>".
        await git(['fetch', '--quiet', '--depth', '1', '--stdin', this.url], {
          input: missing.join('\n') + '\n',
        });
        const answers = (
          await git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
            input: missing.map((sha) => `${sha}:${dir}`).join('\n') + '\n',
          })
        ).stdout.split('\n');
        return new Map(
          missing.map((sha, i) => {
            const [id, type] = (answers[i] ?? '').split(' ');
            // "" stands for a head without the directory: known too.
            return [idOf(sha), type === 'tree' && id ? id : ''];
          }),
        );
      }, `listing branches in ${this.description}`);
      await cache?.keepGitObjects(learned);
      for (const [id, tree] of learned) known.set(id, tree);
    }
    return listed.map((h) => ({ ...h, tree: known.get(idOf(h.sha)) || null }));
  }

  async get(name: string): Promise<BranchInfo | null> {
    return this.withRepo(
      async (git) =>
        parseLsRemote(
          (await git(['ls-remote', '--heads', this.url, `refs/heads/${name}`])).stdout,
        )[0] ?? null,
    );
  }

  async ensure(
    name: EnvName,
    files: BranchFile[],
    message: string,
    _known?: BranchFile[] | null,
    signal?: AbortSignal,
  ): Promise<Ensured> {
    refuseReserved(name);
    const prefix = this.settings.prefix ?? 'deploy/';
    return this.withRepo(
      async (git) => {
        const heads = parseLsRemote(
          (
            await git([
              'ls-remote',
              '--heads',
              this.url,
              `refs/heads/${name}`,
              `refs/heads/${this.settings.defaultBranch}`,
            ])
          ).stdout,
        );
        const branch = heads.find((h) => h.name === name);
        const base = branch ?? heads.find((h) => h.name === this.settings.defaultBranch);
        if (base) await git(['fetch', '--quiet', '--depth', '1', this.url, base.sha]);
        // deploy/ compared by its tree id, computed here from the files: one rev-parse.
        if (branch) {
          const dir = `${branch.sha}:${prefix.replace(/\/$/, '')}`;
          const { stdout } = await git(['rev-parse', '--verify', '--quiet', dir]).catch(() => ({
            stdout: '',
          }));
          if (stdout.trim() === treeSha(files, prefix)) return 'unchanged';
        }
        // Blobs, trees and the commit written by one git process.
        const ref = 'refs/heads/kindler-write';
        await commitFiles(git, {
          ref,
          base: base?.sha ?? null,
          prefix,
          files,
          message,
          author: this.settings.author,
        });
        // A new branch must not exist yet; an update must fast-forward: a racing writer makes us
        // fail, not overwrite.
        const lease = `--force-with-lease=refs/heads/${name}:${branch?.sha ?? ''}`;
        await git(['push', '--quiet', lease, this.url, `${ref}:refs/heads/${name}`]);
        return branch ? 'updated' : 'created';
      },
      `writing branch "${name}" in ${this.description}`,
      signal,
    );
  }

  async readFiles(name: string, prefix: string): Promise<BranchFile[] | null> {
    return this.withRepo(async (git) => {
      const branch = parseLsRemote(
        (await git(['ls-remote', '--heads', this.url, `refs/heads/${name}`])).stdout,
      )[0];
      if (!branch) return null;
      await git(['fetch', '--quiet', '--depth', '1', this.url, branch.sha]);
      return filesAt(git, branch.sha, prefix);
    });
  }

  async remove(name: EnvName): Promise<'deleted' | 'absent'> {
    refuseReserved(name);
    return this.withRepo(async (git) => {
      if (!(await this.get(name))) return 'absent';
      await git(['push', '--quiet', this.url, '--delete', `refs/heads/${name}`]);
      return 'deleted';
    }, `deleting branch "${name}" in ${this.description}`);
  }

  async archive(name: string, archiveName: string): Promise<void> {
    refuseReserved(name);
    refuseBadArchive(archiveName);
    await this.withRepo(async (git) => {
      const branch = await this.get(name);
      if (!branch) return;
      await git(['fetch', '--quiet', '--depth', '1', this.url, branch.sha]);
      await git([
        'push',
        '--quiet',
        this.url,
        `${branch.sha}:refs/heads/${archiveName}`,
        `:refs/heads/${name}`,
      ]);
    }, `archiving branch "${name}" as "${archiveName}" in ${this.description}`);
  }

  /** Runs `fn` with a throwaway bare repository and a git function bound to it. */
  private async withRepo<T>(
    fn: (git: Git) => Promise<T>,
    action?: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kindler-git-'));
    const askpass = path.join(dir, 'askpass.sh');
    try {
      await fs.writeFile(askpass, ASKPASS, { mode: 0o700 });
      const repo = path.join(dir, 'repo.git');
      await bareRepo(repo);
      const baseEnv = {
        GIT_DIR: repo,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: askpass,
        SSH_ASKPASS: askpass,
        KINDLER_GIT_USERNAME: this.username ?? '',
        KINDLER_GIT_PASSWORD: this.password ?? '',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      };
      const secrets = [
        this.password,
        this.username && this.password ? `${this.username}:${this.password}` : undefined,
      ].filter((s): s is string => !!s);
      const git: Git = async (args, opts = {}) => {
        const options: RunOptions = {
          timeoutMs: this.settings.timeoutMs,
          secrets,
          env: { ...baseEnv, ...opts.env },
          keepTrailingNewline: opts.raw === true,
        };
        if (opts.input !== undefined) options.input = opts.input;
        if (signal) options.signal = signal;
        return run('git', args, options);
      };
      return await fn(git);
    } catch (error) {
      if (!action) throw error;
      throw gitFailure(action, error);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
