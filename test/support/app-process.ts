// The bot as a GitHub App in a real process, against the GitHub stand-in: the environment such a
// process needs (the app's credentials, GitHub at the stand-in, the config repository, a local
// bare repository for branches, the fake CLIs), and a comment delivered as GitHub delivers it.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setupFakes, type Fakes } from './fakes.js';
import { appPrivateKey, commentPayload, pushPayload } from './github-fixtures.js';
import { startGitHubServer, type GitHubServer } from './github-server.js';

export interface AppProcessSettings {
  fakes: Fakes;
  github: GitHubServer;
  privateKey: string;
  secret: string;
  /** The config repository, owner/name. */
  repo: string;
  /** Holds gitops.git (a bare repository the test made). */
  tmp: string;
  baseDomain: string;
}

/**
 * What an app process runs against: the fake CLIs, a bare repository for branches, the app's key
 * and the GitHub stand-in, where `writer` has write permission on `repo`. close() removes it all.
 */
export async function startAppWorld(o: {
  repo: string;
  secret: string;
  baseDomain: string;
}): Promise<AppProcessSettings & { close(): Promise<void> }> {
  const fakes = setupFakes();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-app-'));
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
  const privateKey = appPrivateKey();
  const github = await startGitHubServer({ appId: '99', privateKey });
  github.permissions[`${o.repo}:writer`] = 'write';
  return {
    ...o,
    fakes,
    github,
    privateKey,
    tmp,
    async close() {
      await github.close();
      fakes.cleanup();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** The variables of an app process; what a test sets besides (lease, pacing, database) overrides them. */
export function appProcessEnv(s: AppProcessSettings): Record<string, string> {
  return {
    ...s.fakes.env,
    APP_ID: '99',
    PRIVATE_KEY: s.privateKey,
    WEBHOOK_SECRET: s.secret,
    GHE_HOST: s.github.host,
    GHE_PROTOCOL: 'http',
    KINDLER_CONFIG_REPO: s.repo,
    KINDLER_DATA_DIR: path.join(s.tmp, 'data'),
    GIT_REPO_URL: path.join(s.tmp, 'gitops.git'),
    BASE_DOMAIN: s.baseDomain,
    KINDLER_RETRY_DELAYS_MS: 'none',
    KINDLER_DRIFT_INTERVAL_MINUTES: '0',
  };
}

/**
 * `line` commented by `writer` on `issue` (comment id `commentId`), POSTed to `base` signed with
 * `secret` under delivery id `delivery`. Resolves with the answer, or null when none came.
 */
export async function deliverComment(
  base: string,
  s: Pick<AppProcessSettings, 'github' | 'secret' | 'repo'>,
  c: { issue: number; commentId: number; line: string; delivery?: string },
): Promise<Response | null> {
  const body = JSON.stringify(
    commentPayload({
      repo: s.repo,
      issue: c.issue,
      commentId: c.commentId,
      login: 'writer',
      body: c.line,
      installationId: s.github.installationId,
    }),
  );
  return deliver(base, s.secret, 'issue_comment', body, c.delivery);
}

/** A push of `after` to `branch` of the config repository touching `touched`, as GitHub sends it. */
export function deliverPush(
  base: string,
  s: Pick<AppProcessSettings, 'github' | 'secret' | 'repo'>,
  p: { branch?: string; after: string; touched: string[] },
): Promise<Response | null> {
  const body = JSON.stringify(
    pushPayload({
      repo: s.repo,
      branch: p.branch ?? 'main',
      after: p.after,
      touched: p.touched,
      installationId: s.github.installationId,
    }),
  );
  return deliver(base, s.secret, 'push', body);
}

function deliver(
  base: string,
  secret: string,
  event: string,
  body: string,
  delivery: string = crypto.randomUUID(),
): Promise<Response | null> {
  return fetch(`${base}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  }).catch(() => null);
}
