// What the git CLI store needs around git itself: ls-remote read, credentials split from a URL,
// a local bare repository, the author's identity, a failed command said (transient or not), and
// a tree written from files with plumbing.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Failure, TransientError } from '../domain/index.js';
import { CliError, run } from '../system/exec.js';
import { unsafePath, type BranchFile, type BranchInfo } from './branch-store.js';
import { GIT_SERVICE_REPO } from './git-service.js';

export function parseLsRemote(text: string): BranchInfo[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', ref = ''] = line.split('\t');
      return { sha, name: ref.replace(/^refs\/heads\//, '') };
    });
}

/** Takes user:password out of a URL, so it never reaches argv or logs. */
export function splitCredentials(raw: string): {
  url: string;
  username?: string;
  password?: string;
} {
  try {
    const u = new URL(raw);
    if (!u.username && !u.password) return { url: raw };
    const out = {
      url: '',
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    };
    u.username = '';
    u.password = '';
    out.url = u.toString();
    return out;
  } catch {
    return { url: raw };
  }
}

/** The CLI's default without GIT_REPO_URL: a bare repository under the data dir. */
export async function localBareRepo(dataDir: string): Promise<string> {
  // The name the built-in Git service serves it under.
  const repo = path.join(dataDir, 'git', GIT_SERVICE_REPO);
  await fs.mkdir(path.dirname(repo), { recursive: true });
  const exists = await fs.stat(path.join(repo, 'HEAD')).then(
    () => true,
    () => false,
  );
  if (!exists) await run('git', ['init', '--quiet', '--bare', `--initial-branch=main`, repo]);
  return repo;
}

/** The identity git records for a commit of the bot's. */
export function authorEnv(author: { name: string; email: string }): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

/**
 * A failed git command said as what we were doing. Worth trying again: a timeout, a server that
 * did not answer, and a push the lease refused because another writer moved the branch between our
 * read and our push (read again and compare: the same files are then simply there).
 */
export function gitFailure(action: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : String(error);
  const transient =
    error instanceof CliError &&
    (error.timedOut ||
      /\b(50[234]|Could not resolve host|Connection refused|timed out)\b/i.test(error.stderr) ||
      /\[(?:remote )?rejected\].*\((?:stale info|fetch first|failed to update ref)\)/.test(
        error.stderr,
      ));
  return transient
    ? new TransientError(`${action}: ${detail}`, { cause: error })
    : new Error(`${action}: ${detail}`, { cause: error });
}

export const ASKPASS =
  '#!/bin/sh\ncase "$1" in\n  Username*) printf "%s" "$KINDLER_GIT_USERNAME" ;;\n  *) printf ' +
  '"%s" "$KINDLER_GIT_PASSWORD" ;;\nesac\n';

/** A directory of a tree being written: names to blob ids or to directories. */
export type Dir = Map<string, Dir | string>;

/** git, run in a throwaway repository with the store's credentials and settings. */
export type Git = (
  args: string[],
  opts?: { env?: Record<string, string>; input?: string; raw?: boolean },
) => Promise<{ stdout: string; stderr: string }>;

/**
 * The base commit's tree with `prefix` replaced by exactly `files` (mktree: no index, no work
 * tree).
 */
export async function writeTree(
  git: Git,
  baseSha: string | null,
  prefix: string,
  files: BranchFile[],
): Promise<string> {
  const top = prefix.replace(/\/$/, '');
  // NUL-separated both ways (-z): a name holding a newline or a tab is one entry, never two.
  const rootEntries = baseSha
    ? (await git(['ls-tree', '-z', baseSha])).stdout
        .split('\0')
        .filter((l) => l && l.slice(l.indexOf('\t') + 1) !== top)
    : [];
  const nested: Dir = new Map();
  for (const file of files) {
    const unsafe = unsafePath(file.path);
    if (unsafe) throw new Failure('invalid_input', `refusing to write ${unsafe}`);
    const parts = file.path.split('/');
    let dir = nested;
    for (const part of parts.slice(0, -1)) {
      if (!dir.has(part)) dir.set(part, new Map());
      dir = dir.get(part) as Dir;
    }
    dir.set(parts.at(-1) as string, file.content);
  }
  const mk = async (dir: Dir, extra: string[]): Promise<string> => {
    const lines = [...extra];
    for (const [name, child] of dir) {
      if (typeof child === 'string') {
        const blob = (await git(['hash-object', '-w', '--stdin'], { input: child })).stdout.trim();
        lines.push(`100644 blob ${blob}\t${name}`);
      } else lines.push(`040000 tree ${await mk(child, [])}\t${name}`);
    }
    return (await git(['mktree', '-z'], { input: `${lines.join('\0')}\0` })).stdout.trim();
  };
  return mk(nested, rootEntries);
}
