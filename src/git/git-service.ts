// The built-in Git service: the environment repository the bot keeps under the data dir
// (`<data dir>/git/environments.git`), served read-only over Git's smart HTTP protocol by git's
// own `git http-backend` (no protocol of ours) at /kindler/git/environments.git, so the devops
// cluster's Argo CD can clone the branches with no Git server beside the bot. One credential —
// user `kindler`, a password generated once into `<data dir>/git-service.password` (mode 600) —
// is handed to Argo CD in its repository Secret; pushes are refused whoever asks.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { GIT_SERVICE_PASSWORD_FILE, gitServicePassword } from '../config/git-service-password.js';
import type { RepositoryAccess } from './branch-store.js';

export const GIT_SERVICE_PATH = '/kindler/git';
export const GIT_SERVICE_REPO = 'environments.git';
export const GIT_SERVICE_USER = 'kindler';
export { gitServicePassword };
/** The password, made once (readable by this user only) if there is none yet. */
export function ensureGitServicePassword(dataDir: string): string {
  const known = gitServicePassword(dataDir);
  if (known) return known;
  fs.mkdirSync(dataDir, { recursive: true });
  const password = randomBytes(24).toString('base64url');
  try {
    fs.writeFileSync(path.join(dataDir, GIT_SERVICE_PASSWORD_FILE), `${password}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    return password;
  } catch {
    // Another process made it first: theirs is the one.
    return gitServicePassword(dataDir) ?? password;
  }
}

/** How Argo CD reaches the service: `<base>/kindler/git/environments.git` with the credential. */
export function gitServiceAccess(base: string, password: string): RepositoryAccess {
  return {
    url: `${base.replace(/\/+$/, '')}${GIT_SERVICE_PATH}/${GIT_SERVICE_REPO}`,
    credentials: { username: GIT_SERVICE_USER, password },
  };
}

/** Whether the request carries the service's Basic credential (compared in constant time). */
export function gitCredentialOk(req: http.IncomingMessage, password: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
  if (!match) return false;
  const given = Buffer.from(Buffer.from(match[1]!, 'base64').toString('utf8'));
  const expected = Buffer.from(`${GIT_SERVICE_USER}:${password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What a request under /kindler/git/ asks for: a read of the repository, or why not. */
export function gitRequestOf(
  method: string,
  pathname: string,
  query: URLSearchParams,
): { pathInfo: string } | { status: number; error: string } {
  const rest = pathname.slice(GIT_SERVICE_PATH.length);
  if (!rest.startsWith(`/${GIT_SERVICE_REPO}/`))
    return { status: 404, error: `the only repository here is ${GIT_SERVICE_REPO}` };
  const inside = rest.slice(GIT_SERVICE_REPO.length + 1);
  const reads =
    (method === 'GET' && inside === '/info/refs' && query.get('service') === 'git-upload-pack') ||
    (method === 'POST' && inside === '/git-upload-pack');
  if (reads) return { pathInfo: rest };
  if (inside === '/git-receive-pack' || query.get('service') === 'git-receive-pack')
    return {
      status: 403,
      error: 'this repository is read-only: the bot alone writes its branches',
    };
  return { status: 404, error: 'only the smart HTTP protocol is served (git clone, git fetch)' };
}
