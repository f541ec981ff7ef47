// "Sign in with GitHub": the OAuth web flow of the GitHub App itself (@octokit/oauth-methods).
//   GET /kindler/login           → GitHub's authorize page, with a state kept in a cookie
//   GET /kindler/login/callback  → the code exchanged for a user token, the login read from
//                                   /user, a session started; the token itself is not kept
// GitHub Enterprise Server is honoured through the API base (GHE_HOST).
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from '@octokit/oauth-methods';
import { request } from '@octokit/request';
import type http from 'node:http';
import { messageOf } from '../domain/index.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Sessions } from './sessions.js';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  /** GitHub's REST API: https://api.github.com, or <GHE>/api/v3. */
  apiBase: string;
  /** Where the console is reached (KINDLER_PUBLIC_URL); the request's host otherwise. */
  publicUrl?: string | undefined;
}

export function signInHandler(
  settings: OAuthSettings,
  sessions: Sessions,
  /** The login of a user token (GitHub's /user). */
  userOf: (token: string) => Promise<string | null>,
) {
  const github = request.defaults({ baseUrl: settings.apiBase });
  const callbackUrl = (req: http.IncomingMessage) =>
    `${settings.publicUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`}/kindler/login/callback`;
  return async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    url: URL,
  ): Promise<boolean> => {
    if (path === '/kindler/login') {
      const { state, setCookie } = sessions.state();
      const { url: authorize } = getWebFlowAuthorizationUrl({
        clientType: 'github-app',
        clientId: settings.clientId,
        redirectUrl: callbackUrl(req),
        state,
        allowSignup: false,
        request: github,
      });
      res.writeHead(302, { location: authorize, 'set-cookie': setCookie }).end();
      return true;
    }
    if (path !== '/kindler/login/callback') return false;
    const checked = sessions.checkState(req, url.searchParams.get('state'));
    const fail = (status: number, why: string) => {
      res
        .writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'set-cookie': checked.setCookie,
        })
        .end(
          page(
            'sign-in',
            html`<h2>Not signed in</h2>
              <p>${why}</p>
              <p><a href="/kindler/login">Try again</a> · <a href="/kindler">Environments</a></p>`,
          ),
        );
      return true;
    };
    if (url.searchParams.get('error'))
      return fail(
        401,
        `GitHub said: ` +
          `${url.searchParams.get('error_description') ?? url.searchParams.get('error')}.`,
      );
    if (!checked.ok)
      return fail(
        400,
        'This sign-in was not started here (its state does not match); nothing was done.',
      );
    const code = url.searchParams.get('code');
    if (!code) return fail(400, 'GitHub sent no code back.');
    let login: string | null;
    try {
      const { authentication } = await exchangeWebFlowCode({
        clientType: 'github-app',
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        code,
        redirectUrl: callbackUrl(req),
        request: github,
      });
      login = await userOf(authentication.token);
    } catch (error) {
      return fail(502, `GitHub did not take the sign-in: ${messageOf(error).split('\n')[0]}`);
    }
    if (!login) return fail(401, 'GitHub did not say who you are.');
    const session = await sessions.start(login, 'github');
    res.writeHead(303, { location: '/kindler', 'set-cookie': [checked.setCookie, session] }).end();
    return true;
  };
}
