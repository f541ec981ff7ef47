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

/** git, run in a throwaway repository with the store's credentials and settings. */
export type Git = (
  args: string[],
  opts?: { env?: Record<string, string>; input?: string; raw?: boolean },
) => Promise<{ stdout: string; stderr: string }>;

/** A throwaway bare repository made without a git process: what `git init --bare` leaves. */
export async function bareRepo(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'objects'), { recursive: true });
  await fs.mkdir(path.join(dir, 'refs', 'heads'), { recursive: true });
  await fs.mkdir(path.join(dir, 'refs', 'tags'));
  await fs.writeFile(path.join(dir, 'HEAD'), 'ref: refs/heads/main\n');
  await fs.writeFile(
    path.join(dir, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n',
  );
}

/**
 * One commit on `ref` of the throwaway repository, written by one `git fast-import`: the base
 * commit's tree with `prefix` replaced by exactly `files` (blobs, trees and commit in one process).
 */
export async function commitFiles(
  git: Git,
  commit: {
    ref: string;
    base: string | null;
    prefix: string;
    files: BranchFile[];
    message: string;
    author: { name: string; email: string };
  },
): Promise<void> {
  const { name, email } = commit.author;
  // eslint-disable-next-line no-control-regex -- an identity line must stay one line
  if (/[<>\u0000-\u001f]/.test(`${name}${email}`))
    throw new Failure('not_configured', `the commit author "${name} <${email}>" is not valid`);
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}`;
  const quoted = (file: string) => `"${file.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const lines = [
    `commit ${commit.ref}`,
    `committer ${name} <${email}> now`,
    data(commit.message),
    ...(commit.base ? [`from ${commit.base}`] : []),
    `D ${quoted(commit.prefix.replace(/\/$/, ''))}`,
  ];
  for (const file of commit.files) {
    const unsafe = unsafePath(file.path);
    if (unsafe) throw new Failure('invalid_input', `refusing to write ${unsafe}`);
    lines.push(`M 100644 inline ${quoted(file.path)}`, data(file.content));
  }
  await git(['fast-import', '--quiet', '--date-format=now'], {
    input: `${lines.join('\n')}\ndone\n`,
  });
}

/** The files under `prefix` at `sha`: one listing and one `cat-file --batch` for every blob. */
export async function filesAt(git: Git, sha: string, prefix: string): Promise<BranchFile[]> {
  const entries = (await git(['ls-tree', '-r', '-z', sha, '--', prefix])).stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', file = ''] = line.split('\t');
      return { blob: meta.split(' ')[2] ?? '', path: file };
    });
  if (entries.length === 0) return [];
  const out = Buffer.from(
    (
      await git(['cat-file', '--batch'], {
        input: entries.map((e) => `${e.blob}\n`).join(''),
        raw: true,
      })
    ).stdout,
  );
  // "<id> blob <size>\n<content>\n" per entry, sizes in bytes.
  let at = 0;
  return entries.map((e) => {
    const eol = out.indexOf(10, at);
    const size = Number(out.subarray(at, eol).toString().split(' ')[2]);
    const content = out.subarray(eol + 1, eol + 1 + size).toString('utf8');
    at = eol + 1 + size + 1;
    return { path: e.path, content };
  });
}
