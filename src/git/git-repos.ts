// What the git CLI store needs around git itself: ls-remote read, credentials split from a URL,
// a local bare repository, the author's identity, and a failed command said (transient or not).
import fs from 'node:fs/promises';
import path from 'node:path';
import { TransientError } from '../domain/index.js';
import { CliError, run } from '../system/exec.js';
import type { BranchInfo } from './branch-store.js';
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
  '#!/bin/sh\ncase "$1" in\n  Username*) printf "%s" "$KINDLER_GIT_USERNAME" ;;\n  *) printf "%s" "$KINDLER_GIT_PASSWORD" ;;\nesac\n';
