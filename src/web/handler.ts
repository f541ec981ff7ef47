// The dashboard and its JSON API, mounted on the bot's own HTTP server (no second server):
//   /kindler, /kindler/environments/<name>                                  HTML
//   /kindler/api/environments[/<name>], /kindler/api/operations, /kindler/api/consistency,
//   /kindler/api/github-writes (what GitHub has not taken)   JSON
//   /metrics                                                                Prometheus text
// Who may read: the local operator (`Authorization: Bearer <KINDLER_DASHBOARD_TOKEN>`, or the
// session a visit to /kindler?token=<token> starts: the token itself is never kept in a cookie),
// and a GitHub user (a user token, or "Sign in with GitHub") whose permission on the config
// repository allows `list` — the same authority as their comments, refusals naming the rule.
// Without a dashboard token an anonymous reader is served only from this machine (loopback).
// Wrong tokens are throttled per address. Changes go through the console's API (console-api.ts:
// POST and DELETE under /kindler/api/), judged by the same authority.
import fs from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../system/package-root.js';
import { LiveEvents } from './live.js';
import type http from 'node:http';
import type { ActionRuntime } from '../actions/index.js';
import type { Runtime } from '../runtime.js';
import { json, readSmallBody, type Handler } from '../server/http-server.js';
import type { Metrics } from '../server/metrics.js';
import type { Verb } from '../commands/verbs.js';
import { messageOf, type Operation } from '../domain/index.js';
import {
  OPERATOR,
  allowedVerbs,
  bearerPrincipal,
  judgeFor,
  refuse,
  tooMany,
  type ConsoleAccess,
  type Principal,
  type Refusal,
} from './principals.js';
import { consoleApi } from './console-api.js';
import { formAction } from './forms.js';
import { flashCookie, takeFlash } from './flash.js';
import { isLoopbackAddress, peerAddress } from '../server/peer.js';
import { FailureThrottle } from '../server/throttle.js';
import { pruneConfirm, type Viewer } from './controls.js';
import type { Notice } from './pages.js';
import { openPreview } from '../actions/index.js';
import { Sessions, same } from './sessions.js';
import { signInHandler, type OAuthSettings } from './sign-in.js';
import { DashboardData, PAGE, type Degradation } from './data.js';
import { esc } from './html.js';
import { environmentPage, listPage, notFoundPage, page } from './pages.js';

export function dashboardHandler(
  rt: Runtime & ActionRuntime,
  options: {
    token?: string | undefined;
    metrics?: Metrics;
    /** The GitHub App's registration (/kindler/setup), offered while no app is configured. */
    setup?: Handler | undefined;
    /** Who may change what through the API (the token above is always one of them). */
    access?: Omit<ConsoleAccess, 'token' | 'sessions'>;
    /** "Sign in with GitHub": the app's OAuth client (absent: no sign-in with GitHub). */
    oauth?: OAuthSettings | undefined;
    /** The console is served over HTTPS: its cookies carry Secure. */
    secure?: boolean;
    /** Where an operation's conversation and check run are on the web (GitHub Enterprise). */
    githubWeb?: string;
    /** The web page of an environment's branch, when the branches have one. */
    branchUrl?: (name: string) => string | null;
    /** An environment's pages in Portainer's and Argo CD's UIs, from what its operations did. */
    systemLinks?: (name: string, operations: Operation[]) => { label: string; url: string }[];
  } = {},
): Handler & { close(): Promise<void> } {
  const data = new DashboardData(rt);
  const { token, metrics } = options;
  const sessions = new Sessions(rt.store, options.secure ?? false);
  const throttle = new FailureThrottle();
  const access: ConsoleAccess = { ...options.access, token, sessions, throttle };
  const mutate = consoleApi(rt, access);
  const live = new LiveEvents(rt.store, {
    max: 100,
    perPrincipal: rt.config.KINDLER_LIVE_PER_READER,
    lifetimeMs: rt.config.KINDLER_LIVE_LIFETIME_SECONDS * 1000,
  });
  const signIn =
    options.oauth && access.githubLogin
      ? signInHandler(options.oauth, sessions, access.githubLogin)
      : null;
  /** Who looks, and what they may do on `name` (or on the list). */
  const viewerOf = async (req: http.IncomingMessage, name: string | null): Promise<Viewer> => {
    const session = await sessions.of(req);
    const verbs: Verb[] = name
      ? ['stop', 'start', 'retry', 'cancel', 'extend', 'delete']
      : ['create', 'check', 'sync', 'prune'];
    // A permission GitHub cannot tell us now offers no controls; the page still shows.
    const allowed = await allowedVerbs(rt.store, access, session, verbs, name).catch(
      () => new Set<Verb>(),
    );
    return {
      login: session?.login ?? null,
      csrf: session?.csrf ?? null,
      allowed,
      signIn: signIn !== null,
    };
  };
  /**
   * Who reads, judged by the one authority: the operator, or a GitHub user whose permission allows
   * `list`; anonymous only without a token and from this machine. A refusal otherwise.
   */
  const readerOf = async (
    req: http.IncomingMessage,
  ): Promise<{ principal: Principal | null } | Refusal> => {
    const bearer = await bearerPrincipal(req, access);
    if (bearer && 'status' in bearer) return bearer;
    const session = bearer ? null : await sessions.of(req);
    const principal = bearer ?? (session ? { login: session.login, via: session.via } : null);
    if (!principal) {
      if (!token && isLoopbackAddress(peerAddress(req))) return { principal: null };
      return {
        status: 401,
        error: `This dashboard needs a credential: send "Authorization: Bearer <token>"${token ? ', or open /kindler?token=<token> once' : ' (set KINDLER_DASHBOARD_TOKEN to read it from another machine)'}${signIn ? ', or sign in with GitHub at /kindler/login' : ''}.`,
      };
    }
    if (principal.via === 'token') return { principal };
    let decision;
    try {
      decision = await judgeFor(rt.store, access, principal, { verb: 'list' });
    } catch (error) {
      return {
        status: 503,
        error: `Your permission could not be read just now (${rt.redactor.redact(messageOf(error)).slice(0, 200)}); nothing is shown until it can. Reload in a minute.`,
      };
    }
    if (decision.allowed) return { principal };
    return { status: 403, error: decision.message.replace(/^@\S+, /, '') };
  };
  /** A page's notice: what the request's flash cookie carries (cleared here), or `notice`. */
  const noticeOf = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    notice: Notice | null,
  ): { notice: Notice | null; values: Record<string, string> } => {
    const { flash, clear } = takeFlash(req);
    if (clear) res.setHeader('set-cookie', clear);
    if (!flash) return { notice, values: {} };
    return { notice: { text: esc(flash.text), error: flash.error }, values: flash.values ?? {} };
  };
  const listing = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    given: Notice | null,
  ) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const page = pageOf(url);
    const [envs, consistency, undelivered, viewer] = await Promise.all([
      data.environments('error' in page ? undefined : page),
      data.consistency(),
      data.undelivered(),
      viewerOf(req, null),
    ]);
    const shown = noticeOf(req, res, given);
    let notice = shown.notice;
    // A prune preview the viewer asked for: its confirmation, while it is open.
    const previewId = url.searchParams.get('prune');
    if (previewId !== null && !notice && viewer.allowed.has('prune')) {
      const preview = await openPreview(rt.store, previewId).catch(() => null);
      notice = preview
        ? { text: pruneConfirm(viewer, preview), error: false }
        : {
            text: 'That prune preview is no longer open (an hour, carried out once); preview again.',
            error: true,
          };
    }
    return html(
      res,
      status,
      listPage({
        environments: envs.environments,
        next: envs.next,
        report: consistency.report,
        undelivered: undelivered.writes,
        degraded: degradation(envs),
        viewer,
        notice,
        values: shown.values,
      }),
    );
  };
  const environment = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    status: number,
    notice: { text: string; error: boolean } | null,
  ) => {
    const shown = noticeOf(req, res, notice);
    const found = await data.environment(name);
    if (!found) {
      const envs = await data.environments();
      return html(res, 404, notFoundPage(name, degradation(envs)));
    }
    return html(
      res,
      status,
      environmentPage({
        name,
        environment: found.environment,
        operations: found.operations,
        degraded: degradation(found),
        viewer: await viewerOf(req, name),
        notice: shown.notice,
        ...(options.githubWeb ? { githubWeb: options.githubWeb } : {}),
        branchUrl: options.branchUrl?.(name) ?? null,
        systems: options.systemLinks?.(name, found.operations) ?? [],
      }),
    );
  };
  const handler: Handler & { close(): Promise<void> } = Object.assign(
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const ours =
        path === '/kindler' || path.startsWith('/kindler/') || (path === '/metrics' && metrics);
      if (!ours) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // The setup page's own forms (the operator's, checked there).
        if (options.setup && path.startsWith('/kindler/setup') && (await options.setup(req, res)))
          return true;
        // A change: the console's API identifies and authorises it itself.
        if (path.startsWith('/kindler/api/') && (await mutate(req, res, path.slice(13))))
          return true;
        if (req.method === 'POST' && path === '/kindler/logout') {
          const session = await sessions.of(req);
          const fields = new URLSearchParams(await readSmallBody(req));
          const csrf = fields.get('csrf');
          if (session && (!csrf || !same(csrf, session.csrf)))
            return html(res, 403, page('sign out', '<p>This form has no valid CSRF token.</p>'));
          res.writeHead(303, { location: '/kindler', 'set-cookie': await sessions.end(req) }).end();
          return true;
        }
        if (req.method === 'POST') {
          const done = await formAction(rt, access, req, path);
          if (done && 'redirect' in done) {
            res
              .writeHead(303, {
                location: done.redirect,
                ...(done.flash ? { 'set-cookie': flashCookie(done.flash) } : {}),
              })
              .end();
            return true;
          }
          if (done) return listing(req, res, done.status, { text: esc(done.error), error: true });
        }
        res
          .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
          .end('only GET and HEAD here; changes are POST or DELETE under /kindler/api/\n');
        return true;
      }
      if (signIn && (await signIn(req, res, path, url))) return true;
      const offered = url.searchParams.get('token');
      if (token && offered !== null && !path.startsWith('/kindler/api')) {
        // The local operator's browser: the token is traded for a session once, never kept.
        const address = peerAddress(req);
        const wait = throttle.blocked(address);
        if (wait) return answerRefusal(res, path, tooMany(wait));
        if (!same(offered, token)) {
          throttle.fail(address);
          return answerRefusal(res, path, {
            status: 401,
            error: "That token is not this dashboard's; nothing was opened.",
          });
        }
        url.searchParams.delete('token');
        res
          .writeHead(303, {
            location: `${url.pathname}${url.search}`,
            'set-cookie': await sessions.start(OPERATOR.login, OPERATOR.via),
            'referrer-policy': 'no-referrer',
          })
          .end();
        return true;
      }
      // Setup answers for itself (the operator only, and only while no app is configured).
      if (options.setup && path.startsWith('/kindler/setup') && (await options.setup(req, res)))
        return true;
      const reader = await readerOf(req);
      if ('status' in reader) return answerRefusal(res, path, reader);
      if (path === '/metrics' && metrics) {
        const { contentType, body } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return true;
      }
      if (path === '/kindler/api/events') {
        await live.serve(
          req,
          res,
          url.searchParams.get('env'),
          principalKey(req, reader.principal),
        );
        return true;
      }
      if (path === '/kindler/assets/live.js') {
        res
          .writeHead(200, {
            'content-type': 'text/javascript; charset=utf-8',
            'cache-control': 'no-cache',
            'x-content-type-options': 'nosniff',
          })
          .end(await liveScript());
        return true;
      }
      if (path.startsWith('/kindler/api/'))
        return api(path.slice('/kindler/api/'.length), url, res, data);
      if (path === '/kindler') return listing(req, res, 200, null);
      const match = /^\/kindler\/environments\/([^/]+)$/.exec(path);
      if (match) {
        const name = decodeName(match[1] as string);
        if (name === null) return html(res, 400, notFoundPage('a malformed name', null));
        return environment(req, res, name, 200, null);
      }
      return html(res, 404, notFoundPage(path, null));
    },
    { close: () => live.close() },
  );
  return handler;
}

let script: Promise<string> | null = null;
/** The page script, read once from the package (src/web/assets, copied next to the build). */
const liveScript = () =>
  (script ??= fs.readFile(path.join(packageRoot(), 'src/web/assets/live.js'), 'utf8'));

async function api(
  route: string,
  url: URL,
  res: http.ServerResponse,
  data: DashboardData,
): Promise<boolean> {
  if (route === 'environments') {
    const page = pageOf(url);
    if ('error' in page) json(res, 400, page);
    else json(res, 200, await data.environments(page));
    return true;
  }
  const one = /^environments\/([^/]+)$/.exec(route);
  if (one) {
    const name = decodeName(one[1] as string);
    if (name === null) {
      json(res, 400, { error: 'the name in the path is not valid percent-encoding' });
      return true;
    }
    const found = await data.environment(name);
    if (found) json(res, 200, found);
    else json(res, 404, { error: `no environment named "${name}"` });
    return true;
  }
  if (route === 'operations') {
    const limit = limitOf(url, 50);
    if (typeof limit !== 'number') {
      json(res, 400, limit);
      return true;
    }
    const env = url.searchParams.get('env');
    json(res, 200, await data.operations({ limit, ...(env ? { envName: env } : {}) }));
    return true;
  }
  if (route === 'consistency') {
    json(res, 200, await data.consistency());
    return true;
  }
  if (route === 'github-writes') {
    json(res, 200, await data.undelivered());
    return true;
  }
  json(res, 404, {
    error: `no API at /kindler/api/${route}`,
    routes: [
      'environments',
      'environments/<name>',
      'operations?env=&limit=',
      'consistency',
      'github-writes',
    ],
  });
  return true;
}

/** `?limit=` of a list (`fallback` when absent), or what is wrong with it. */
function limitOf(url: URL, fallback: number): number | { error: string } {
  const limit = Number(url.searchParams.get('limit') ?? fallback);
  return Number.isInteger(limit) && limit >= 1 && limit <= 1000
    ? limit
    : { error: 'limit must be a whole number from 1 to 1000' };
}

/** `?limit=&after=` of a list: the page asked for, or what is wrong with it. */
function pageOf(url: URL): { after: string | null; limit: number } | { error: string } {
  const limit = limitOf(url, PAGE);
  return typeof limit === 'number'
    ? { after: url.searchParams.get('after') || null, limit }
    : limit;
}

const degradation = (r: { degraded: boolean }): Degradation | null =>
  r.degraded ? (r as Degradation) : null;

function html(res: http.ServerResponse, status: number, body: string): true {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src 'self'; connect-src 'self'",
    })
    .end(body);
  return true;
}

/** A refused reader: JSON under the API and /metrics, a page elsewhere. */
function answerRefusal(res: http.ServerResponse, path: string, refusal: Refusal): true {
  if (refusal.status === 401) res.setHeader('www-authenticate', 'Bearer realm="kindler"');
  if (path.startsWith('/kindler/api/') || path === '/metrics') {
    refuse(res, refusal);
    return true;
  }
  if (refusal.retryAfter) res.setHeader('retry-after', String(refusal.retryAfter));
  const body = `<h2>Not shown</h2><div class="notice error" role="alert">${esc(refusal.error)}</div>`;
  return html(res, refusal.status, page('kindler', body));
}

/** Whose live streams these are: the operator, a GitHub user, or an anonymous address. */
function principalKey(req: http.IncomingMessage, principal: Principal | null): string {
  return principal ? `${principal.via}:${principal.login}` : `address:${peerAddress(req)}`;
}

/** A path segment decoded, or null when its percent-encoding is malformed (`%ZZ`). */
function decodeName(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
