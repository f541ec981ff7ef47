// GitHub as a server on loopback, for tests that run the bot as a real process (GHE_HOST points the
// app here; GitHub Enterprise serves REST under /api/v3). It answers as GitHub does, refusals
// included: the app's JWT must be RS256-signed by the app's key and not expired (401), installation
// tokens are issued by it and required on every other call (401 "Bad credentials"), and every
// request is checked against GitHub's OpenAPI description (`checkGitHubRequest`, 422 when GitHub
// would refuse it). What it keeps — comments, reactions, check runs — is there to be read back.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkGitHubRequest } from './github-contract.js';

export interface GitHubComment {
  id: number;
  repo: string;
  issue: number;
  body: string;
  edits: string[];
}
export interface GitHubCheckRun {
  id: number;
  repo: string;
  name: string;
  updates: Record<string, unknown>[];
}
export interface GitHubIssue {
  number: number;
  repo: string;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
}
export interface GitHubRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface GitHubServer {
  /** `127.0.0.1:<port>` for GHE_HOST (with GHE_PROTOCOL=http). */
  host: string;
  installationId: number;
  requests: GitHubRequest[];
  /** Requests GitHub would refuse or that no route here answers. */
  violations: string[];
  comments: GitHubComment[];
  reactions: { repo: string; commentId: number; content: string; at: number }[];
  checkRuns: GitHubCheckRun[];
  /** Issues the app opened (numbered from 500, apart from the issues tests comment on). */
  issues: GitHubIssue[];
  /** `owner/repo:login` → permission (`none` when absent). */
  permissions: Record<string, string>;
  /** `owner/repo` → `.github/kindler.yml` text (404 when absent). */
  policies: Record<string, string>;
  /**
   * `owner/repo@sha` → the file as that commit has it (`?ref=sha`); a ref not named here reads
   * `policies` (the stand-in keeps one version unless a test gives one per commit).
   */
  policiesAt: Record<string, string | null>;
  /** Repositories the app is not installed on: `GET /repos/{o}/{r}/installation` is 404. */
  uninstalled: Set<string>;
  /**
   * Answers to requests matching `match` (`METHOD /path`) wait for `until` — done, as GitHub
   * does, before the answer is sent: a request held this way has happened even if its sender dies.
   */
  holds: { match: RegExp; until: Promise<void> }[];
  /**
   * The app's OAuth client, and who is signed in to GitHub in the browser: the authorize page
   * approves at once for them (as GitHub does once a user has authorised the app); null refuses.
   */
  oauth: { clientId: string; clientSecret: string; user: string | null };
  /** User tokens GitHub issued (OAuth, or a personal token a test hands out) → login. */
  userTokens: Map<string, string>;
  /**
   * The share of writes (POST, PATCH) answered 502 after they were done, as a proxy in front of
   * GitHub that loses the answer does: the write happened, its sender cannot know.
   */
  failAfterWrite: number;
  /**
   * A secondary rate limit, armed by the next write: from it, for `retryAfterSeconds`, every
   * write is answered 403 with the `retry-after` left (GitHub's "You have exceeded a secondary
   * rate limit"); writes arriving after the first answer had time to be heard (`graceMs`) and
   * before the limit ends are recorded as sent while it held. `until` is set by the first write.
   */
  limit: { retryAfterSeconds: number; graceMs: number; until?: number } | null;
  /** Writes received while a limit held, after the bot had been told (`limit`). */
  writesDuringLimit: string[];
  /** Times (ms) of every write received. */
  writeTimes: number[];
  /** A valid installation token, for a test's own client. */
  installationToken(): string;
  close(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/** Verifies a GitHub App JWT as GitHub does: RS256 by the app's key, issued for `appId`, not expired. */
function appJwtValid(token: string, publicKey: crypto.KeyObject, appId: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  const ok = crypto.verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    publicKey,
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
    iss?: unknown;
    exp?: number;
  };
  return String(claims.iss) === appId && (claims.exp ?? 0) * 1000 > Date.now();
}

export async function startGitHubServer(app: {
  appId: string;
  privateKey: string;
  installationId?: number;
}): Promise<GitHubServer> {
  const publicKey = crypto.createPublicKey(app.privateKey);
  const tokens = new Set<string>();
  let ids = 1000;
  const state: Omit<GitHubServer, 'host' | 'close'> = {
    installationId: app.installationId ?? 77,
    requests: [],
    violations: [],
    comments: [],
    reactions: [],
    checkRuns: [],
    issues: [],
    permissions: {},
    policies: {},
    policiesAt: {},
    uninstalled: new Set(),
    holds: [],
    oauth: { clientId: 'Iv1.client', clientSecret: 'oauth-client-secret', user: null },
    userTokens: new Map(),
    failAfterWrite: 0,
    limit: null,
    writesDuringLimit: [],
    writeTimes: [],
    installationToken: () => {
      const token = `ghs_${crypto.randomBytes(18).toString('hex')}`;
      tokens.add(token);
      return token;
    },
  };
  /** When the current limit was first answered (its hold is known to the bot from then). */
  let limitTold: number | null = null;
  /** Codes the authorize page handed out → login (each used once). */
  const codes = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://github.test');
      const method = req.method ?? 'GET';
      const path = url.pathname.replace(/^\/api\/v3(?=\/)/, '');
      const text = Buffer.concat(chunks).toString();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return json(res, 400, { message: 'Problems parsing JSON' });
      }
      state.requests.push({ method, path, body });
      const auth = String(req.headers.authorization ?? '');
      // GitHub's OAuth web flow (github.com/login/oauth/…, not the REST API).
      if (method === 'GET' && path === '/login/oauth/authorize') {
        const redirect = url.searchParams.get('redirect_uri') ?? '';
        if (url.searchParams.get('client_id') !== state.oauth.clientId)
          return json(res, 404, { message: 'Not Found' });
        const back = new URL(redirect);
        if (state.oauth.user) {
          const code = crypto.randomBytes(10).toString('hex');
          codes.set(code, state.oauth.user);
          back.searchParams.set('code', code);
        } else {
          back.searchParams.set('error', 'access_denied');
          back.searchParams.set(
            'error_description',
            'The user has denied your application access.',
          );
        }
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      if (method === 'POST' && path === '/login/oauth/access_token') {
        const b = (body ?? {}) as Record<string, string>;
        if (b.client_id !== state.oauth.clientId || b.client_secret !== state.oauth.clientSecret)
          return json(res, 200, {
            error: 'incorrect_client_credentials',
            error_description: 'The client_id and/or client_secret passed are incorrect.',
          });
        const login = codes.get(b.code ?? '');
        codes.delete(b.code ?? '');
        if (!login)
          return json(res, 200, {
            error: 'bad_verification_code',
            error_description: 'The code passed is incorrect or expired.',
          });
        const token = `ghu_${crypto.randomBytes(18).toString('hex')}`;
        state.userTokens.set(token, login);
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: '' });
      }
      if (method === 'GET' && path === '/user') {
        const login = state.userTokens.get(auth.replace(/^(token|Bearer) /i, ''));
        return login
          ? json(res, 200, { login, id: 1, type: 'User' })
          : json(res, 401, { message: 'Bad credentials' });
      }
      // The app's own endpoints, and which installation covers a repository, take the app's JWT.
      if (path.startsWith('/app/') || /^\/repos\/[^/]+\/[^/]+\/installation$/.test(path)) {
        if (!auth.startsWith('bearer ') && !auth.startsWith('Bearer '))
          return json(res, 401, { message: 'A JSON web token could not be decoded' });
        if (!appJwtValid(auth.slice(7), publicKey, app.appId))
          return json(res, 401, {
            message: "'Expiration time' claim ('exp') is too far in the future",
          });
      } else if (!tokens.has(auth.replace(/^token /, ''))) {
        return json(res, 401, { message: 'Bad credentials' });
      }
      const params = Object.fromEntries(url.searchParams);
      const problem = checkGitHubRequest(method, path, params, body);
      if (problem) {
        state.violations.push(problem);
        return json(res, 422, { message: 'Validation Failed', errors: [problem] });
      }
      const write = method === 'POST' || method === 'PATCH';
      if (write && /^\/repos\//.test(path)) {
        const now = Date.now();
        state.writeTimes.push(now);
        const limit = state.limit;
        if (limit && limit.until === undefined) {
          limit.until = now + limit.retryAfterSeconds * 1000;
          limitTold = now;
        }
        if (limit && limitTold !== null && now < (limit.until as number)) {
          if (now > limitTold + limit.graceMs)
            state.writesDuringLimit.push(`${method} ${path} at +${now - limitTold} ms`);
          res.writeHead(403, {
            'content-type': 'application/json; charset=utf-8',
            'retry-after': String(Math.ceil(((limit.until as number) - now) / 1000)),
          });
          return res.end(
            JSON.stringify({
              message:
                'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
              documentation_url:
                'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
            }),
          );
        }
      }
      const answer = route(
        method,
        path,
        body as Record<string, unknown> | undefined,
        url.searchParams,
      );
      if (!answer) {
        state.violations.push(`${method} ${path}: no route in the GitHub stand-in`);
        return json(res, 404, { message: 'Not Found' });
      }
      const hold = state.holds.find((h) => h.match.test(`${method} ${path}`));
      if (hold) {
        void hold.until.then(() => {
          if (!res.destroyed) json(res, answer[0], answer[1]);
        });
        return;
      }
      if (write && answer[0] < 300 && Math.random() < state.failAfterWrite)
        return json(res, 502, { message: 'Server Error' });
      if (answer[2] === 'raw') {
        res.writeHead(answer[0], { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
        return res.end(answer[1]);
      }
      json(res, answer[0], answer[1]);
    });
  });

  const issueJson = (i: GitHubIssue) => ({
    id: 90_000 + i.number,
    number: i.number,
    title: i.title,
    body: i.body,
    state: i.state,
    labels: i.labels.map((name) => ({ name })),
    html_url: `https://github.test/${i.repo}/issues/${i.number}`,
  });

  function route(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    query: URLSearchParams,
  ): [number, unknown, 'raw'?] | null {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && (m = path.match(/^\/app\/installations\/(\d+)\/access_tokens$/))) {
      if (Number(m[1]) !== state.installationId) return [404, { message: 'Not Found' }];
      const token = `ghs_${crypto.randomBytes(18).toString('hex')}`;
      tokens.add(token);
      return [
        201,
        {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: { issues: 'write', checks: 'write', contents: 'write' },
          repository_selection: 'all',
        },
      ];
    }
    if (method === 'GET' && (m = path.match(/^\/repos\/([^/]+\/[^/]+)\/installation$/)))
      return state.uninstalled.has(m[1]!)
        ? [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }]
        : [200, { id: state.installationId, app_id: Number(app.appId) }];
    if (!(m = path.match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/))) return null;
    const repo = `${m[1]}/${m[2]}`;
    const rest = m[3] ?? '';
    if (method === 'GET' && rest === '')
      return [200, { id: 1, name: m[2], full_name: repo, default_branch: 'main', private: true }];
    if (method === 'GET' && rest === '/branches/main')
      return [200, { name: 'main', commit: { sha: 'f'.repeat(40) }, protected: false }];
    if (method === 'GET' && (m = rest.match(/^\/collaborators\/([^/]+)\/permission$/))) {
      const permission = state.permissions[`${repo}:${m[1]}`] ?? 'none';
      return [200, { permission, role_name: permission, user: { login: m[1] } }];
    }
    if (method === 'GET' && rest.match(/^\/contents\/\.github(\/|%2F)kindler\.yml$/i)) {
      const ref = query.get('ref');
      const at = ref === null ? undefined : state.policiesAt[`${repo}@${ref}`];
      const policy = at === undefined ? state.policies[repo] : (at ?? undefined);
      // Asked for as `application/vnd.github.raw`: the file's bytes, not JSON.
      return policy === undefined ? [404, { message: 'Not Found' }] : [200, policy, 'raw'];
    }
    if (method === 'POST' && (m = rest.match(/^\/issues\/(\d+)\/comments$/))) {
      const comment = { id: ++ids, repo, issue: Number(m[1]), body: String(body?.body), edits: [] };
      state.comments.push(comment);
      return [201, { id: comment.id, body: comment.body, html_url: `https://github.test/${repo}` }];
    }
    if (method === 'GET' && (m = rest.match(/^\/issues\/(\d+)\/comments$/))) {
      const issue = Number(m[1]);
      return [
        200,
        state.comments
          .filter((c) => c.repo === repo && c.issue === issue)
          .map((c) => ({ id: c.id, body: c.body })),
      ];
    }
    if (method === 'GET' && rest === '/issues')
      return [200, state.issues.filter((i) => i.repo === repo).map(issueJson)];
    if (method === 'POST' && rest === '/issues') {
      const issue: GitHubIssue = {
        number: 500 + state.issues.length,
        repo,
        title: String(body?.title),
        body: String(body?.body ?? ''),
        labels: ((body?.labels as string[] | undefined) ?? []).map(String),
        state: 'open',
      };
      state.issues.push(issue);
      return [201, issueJson(issue)];
    }
    if ((method === 'GET' || method === 'PATCH') && (m = rest.match(/^\/issues\/(\d+)$/))) {
      const issue = state.issues.find((i) => i.repo === repo && i.number === Number(m![1]));
      if (!issue) return [404, { message: 'Not Found' }];
      if (method === 'PATCH') {
        if (body?.title !== undefined) issue.title = String(body.title);
        if (body?.body !== undefined) issue.body = String(body.body);
        if (body?.state === 'open' || body?.state === 'closed') issue.state = body.state;
      }
      return [200, issueJson(issue)];
    }
    if (method === 'GET' && (m = rest.match(/^\/commits\/([^/]+)\/check-runs$/))) {
      const runs = state.checkRuns
        .filter((r) => r.repo === repo && r.updates[0]?.head_sha === m![1])
        .map((r) => ({ id: r.id, name: r.name, external_id: r.updates[0]?.external_id ?? null }));
      return [200, { total_count: runs.length, check_runs: runs }];
    }
    if (method === 'PATCH' && (m = rest.match(/^\/issues\/comments\/(\d+)$/))) {
      const comment = state.comments.find((c) => c.id === Number(m![1]));
      if (!comment) return [404, { message: 'Not Found' }];
      comment.body = String(body?.body);
      comment.edits.push(comment.body);
      return [200, { id: comment.id, body: comment.body }];
    }
    if (method === 'POST' && (m = rest.match(/^\/issues\/comments\/(\d+)\/reactions$/))) {
      // One reaction of a kind per user: the same again answers 200 with the one there.
      const same = state.reactions.find(
        (r) => r.repo === repo && r.commentId === Number(m![1]) && r.content === body?.content,
      );
      if (same) return [200, { id: 1, content: body?.content }];
      state.reactions.push({
        repo,
        commentId: Number(m[1]),
        content: String(body?.content),
        at: Date.now(),
      });
      return [201, { id: ++ids, content: body?.content }];
    }
    if (method === 'POST' && rest === '/check-runs') {
      const run = { id: ++ids, repo, name: String(body?.name), updates: [body ?? {}] };
      state.checkRuns.push(run);
      return [201, { id: run.id, name: run.name, status: body?.status ?? 'queued' }];
    }
    if (method === 'PATCH' && (m = rest.match(/^\/check-runs\/(\d+)$/))) {
      const run = state.checkRuns.find((r) => r.id === Number(m![1]));
      if (!run) return [404, { message: 'Not Found' }];
      run.updates.push(body ?? {});
      return [200, { id: run.id, name: run.name }];
    }
    return null;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
