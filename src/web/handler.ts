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
import { LiveEvents } from './live.js';
import { sendAsset } from './assets.js';
import type http from 'node:http';
import type { ActionRuntime } from '../actions/index.js';
import type { Runtime } from '../runtime.js';
import { readSmallBody, type Handler } from '../server/http-server.js';
import type { Metrics } from '../server/metrics.js';
import type { Verb } from '../commands/verbs.js';
import { messageOf, type EnvName, type Operation } from '../domain/index.js';
import {
  OPERATOR,
  allowedVerbs,
  bearerPrincipal,
  judgeFor,
  tooMany,
  type ConsoleAccess,
  type Principal,
  type Refusal,
} from './principals.js';
import { consoleApi } from './console-api.js';
import { formAction } from './forms.js';
import { flashCookie } from './flash.js';
import { isLoopbackAddress, peerAddress } from '../server/peer.js';
import { FailureThrottle } from '../server/throttle.js';
import { type Viewer } from './controls.js';
import { Sessions, same } from './sessions.js';
import { signInHandler, type OAuthSettings } from './sign-in.js';
import { DashboardData } from './data.js';
import { ReadCache } from '../store/read-cache.js';
import { html } from './html.js';
import { notFoundPage } from './pages.js';
import { page } from './layout.js';
import { decodeName, jsonApi } from './json-api.js';
import { answerRefusal, sendHtml, principalKey } from './respond.js';
import { pageViews } from './page-views.js';

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
  const cache = new ReadCache(rt.store);
  const data = new DashboardData(rt, cache);
  const { token, metrics } = options;
  const sessions = new Sessions(rt.store, options.secure ?? false);
  const throttle = new FailureThrottle();
  const access: ConsoleAccess = { ...options.access, token, sessions, throttle };
  const mutate = consoleApi(rt, access);
  const live = new LiveEvents(cache, {
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
      ? ['stop', 'start', 'retry', 'cancel', 'extend', 'update', 'rollback', 'delete']
      : // The list's rows offer stop and start (judged per environment again when pressed).
        ['create', 'check', 'sync', 'prune', 'stop', 'start'];
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
        error:
          'This dashboard needs a credential: send "Authorization: Bearer <token>"' +
          (token
            ? ', or open /kindler?token=<token> once'
            : ' (set KINDLER_DASHBOARD_TOKEN to read it from another machine)') +
          (signIn ? ', or sign in with GitHub at /kindler/login' : '') +
          '.',
      };
    }
    if (principal.via === 'token') return { principal };
    let decision;
    try {
      decision = await judgeFor(rt.store, access, principal, { verb: 'list' });
    } catch (error) {
      return {
        status: 503,
        error:
          `Your permission could not ` +
          `be read just now ` +
          `(${rt.redactor.redact(messageOf(error)).slice(0, 200)}); nothing is shown ` +
          `until it can. Reload in a minute.`,
      };
    }
    if (decision.allowed) return { principal };
    return { status: 403, error: decision.message.replace(/^@\S+, /, '') };
  };
  const { listing, environment, audit } = pageViews({
    data,
    store: rt.store,
    viewerOf,
    githubWeb: options.githubWeb,
    branchUrl: options.branchUrl,
    systemLinks: options.systemLinks,
  });
  type Read = (
    match: RegExpExecArray,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    principal: Principal | null,
  ) => Promise<boolean>;
  /** What a reader may GET, first match wins. */
  const reads: [RegExp, Read][] = [
    [
      /^\/metrics$/,
      async (_m, _req, res) => {
        if (!metrics) return sendHtml(res, 404, notFoundPage('/metrics', null));
        const { contentType, body } = await metrics.render(cache);
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return true;
      },
    ],
    [
      /^\/kindler\/api\/events$/,
      async (_m, req, res, url, principal) => {
        await live.serve(req, res, url.searchParams.get('env'), principalKey(req, principal));
        return true;
      },
    ],
    [/^\/kindler\/assets\/([a-z.]+)$/, (m, _req, res) => sendAsset(res, m[1] as string)],
    [/^\/kindler\/api\/(.+)$/, (m, _req, res, url) => jsonApi(m[1] as string, url, res, data)],
    [/^\/kindler$/, (_m, req, res) => listing(req, res, 200, null)],
    [/^\/kindler\/audit$/, (_m, req, res, url) => audit(req, res, url)],
    [
      /^\/kindler\/environments\/([^/]+)\/kubeconfig$/,
      async (m, req, res) => {
        const name = decodeName(m[1] as string);
        const env = name === null ? null : await rt.store.getEnvironment(name as EnvName);
        if (!env) return sendHtml(res, 404, notFoundPage(name ?? 'a malformed name', null));
        // A credential to the cluster: for those who may change the environment, never cached.
        if (!(await viewerOf(req, env.name)).allowed.has('delete'))
          return answerRefusal(res, '/kindler/environments', {
            status: 403,
            error: `only those who may change "${env.name}" download its kubeconfig`,
          });
        const yaml = await rt.kubeconfigFor(env);
        res
          .writeHead(200, {
            'content-type': 'application/yaml; charset=utf-8',
            'content-disposition': `attachment; filename="${env.provider}-${env.name}.kubeconfig"`,
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
          })
          .end(yaml);
        return true;
      },
    ],
    [
      /^\/kindler\/environments\/([^/]+)$/,
      async (m, req, res) => {
        const name = decodeName(m[1] as string);
        if (name === null) return sendHtml(res, 400, notFoundPage('a malformed name', null));
        return environment(req, res, name, 200, null);
      },
    ],
  ];
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
            return sendHtml(
              res,
              403,
              page('sign out', html`<p>This form has no valid CSRF token.</p>`),
            );
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
          if (done)
            return listing(req, res, done.status, { text: html`${done.error}`, error: true });
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
      for (const [pattern, serve] of reads) {
        const match = pattern.exec(path);
        if (match) return serve(match, req, res, url, reader.principal);
      }
      return sendHtml(res, 404, notFoundPage(path, null));
    },
    { close: () => Promise.all([live.close(), cache.close()]).then(() => undefined) },
  );
  return handler;
}
