// Registering the GitHub App from the running bot, as Probot apps do (GitHub's manifest flow): with
// no app configured, /kindler/setup offers a button that creates the app on GitHub from `app.yml`
// (its webhook pointed at this server), and GitHub sends the browser back to
// /kindler/setup/callback with a one-time code that this server exchanges for the app's id, key
// and webhook secret. They are written beside the data (`github-app.env`, `github-app.pem`, both
// readable by this user only) and read at the next start; nothing secret is shown or logged.
// A `state` made for each page and remembered for an hour ties the callback to the page.
//
// Who may register: only the operator. The page answers a request from this machine (loopback), or
// one carrying the one-time setup code `npm start` printed and wrote to `<data dir>/setup-code`
// (`?setup_code=`); only such a visitor gets a `state`, so only they can complete the callback. The
// manifest's addresses come from KINDLER_PUBLIC_URL or a loopback Host, never from another Host
// (a stranger's Host would point the app's webhooks at them). An app already registered is never
// overwritten: the credentials are written with exclusive creation.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import YAML from 'yaml';
import { httpStatusOf, messageOf } from '../domain/index.js';
import { readSmallBody, type Handler } from '../server/http-server.js';
import { isLoopbackAddress, isLoopbackHost, peerAddress } from '../server/peer.js';
import { html, type Html } from '../web/html.js';
import { SETUP_PATH, bootstrapPage, registerPage, registeredPage } from './setup-pages.js';

export { SETUP_PATH };
import { page } from '../web/layout.js';
import { same } from '../web/sessions.js';
import { APP_ENV_FILE, APP_KEY_FILE, SETUP_CODE_FILE } from './setup-files.js';

const STATE_TTL_MS = 3_600_000;
export interface RegistrationOptions {
  /** Where the app's credentials are written (the data directory). */
  dataDir: string;
  /** The manifest's template (app.yml). */
  manifestPath: string;
  /** GitHub Enterprise host (GHE_HOST) and protocol; github.com otherwise. */
  gheHost?: string | undefined;
  gheProtocol?: string | undefined;
  /** The address GitHub reaches this server at; the request's Host otherwise. */
  publicUrl?: string | undefined;
  /** A webhook proxy channel (WEBHOOK_PROXY_URL): GitHub delivers there, as Probot registers it. */
  webhookProxyUrl?: string | undefined;
  /** The client for the exchange (tests pass one that checks GitHub's description). */
  octokit?: Octokit;
  /** The one-time code that opens setup from another machine (`npm start` prints it). */
  setupCode?: string | undefined;
  /** `kindler bootstrap`, for the page's button (the local operator's only). */
  bootstrap?: () => Promise<{
    ok: boolean;
    results: { title: string; outcome: string; detail: string }[];
  }>;
  now?: () => number;
}

export function registrationHandler(options: RegistrationOptions): Handler {
  const states = new Map<string, number>();
  const now = options.now ?? Date.now;
  const web = options.gheHost
    ? `${options.gheProtocol ?? 'https'}://${options.gheHost}`
    : 'https://github.com';
  const octokit =
    options.octokit ??
    new Octokit(
      options.gheHost
        ? { baseUrl: `${options.gheProtocol ?? 'https'}://${options.gheHost}/api/v3` }
        : {},
    );
  const send = (res: Parameters<Handler>[1], status: number, title: string, body: Html) => {
    res
      .writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // The setup code rides in this page's address: never in a Referer.
        'referrer-policy': 'no-referrer',
      })
      .end(page(title, body));
    return true;
  };

  const registered = () =>
    fs.existsSync(path.join(options.dataDir, APP_ENV_FILE)) ||
    fs.existsSync(path.join(options.dataDir, APP_KEY_FILE));
  const alreadyRegistered = (res: Parameters<Handler>[1]) =>
    send(
      res,
      409,
      'Already registered',
      html`<p>
        A GitHub App is already registered here
        (<code>${path.join(options.dataDir, APP_ENV_FILE)}</code>); it is never replaced from the
        web. Restart kindler-bot to use it, or remove that file on this machine to register another.
      </p>`,
    );

  let building: Promise<unknown> | null = null;
  /** The state as this server made it for a setup page in the last hour, or null. */
  const knownState = (state: string) => {
    const known = [...states.keys()].find((s) => same(s, state));
    return known !== undefined && now() - (states.get(known) ?? 0) <= STATE_TTL_MS ? known : null;
  };
  const operator = (req: Parameters<Handler>[0], offered: string | null) =>
    isLoopbackAddress(peerAddress(req)) ||
    (offered !== null && options.setupCode !== undefined && same(offered, options.setupCode));

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === `${SETUP_PATH}/bootstrap` && options.bootstrap) {
      if (req.method !== 'POST') return false;
      if (registered()) return alreadyRegistered(res);
      const fields = new URLSearchParams(await readSmallBody(req));
      // The page's state proves the form came from the setup page this server made (no
      // cross-site form can post here); the address or the code, that the operator is asking.
      if (!operator(req, fields.get('setup_code')) || !knownState(fields.get('state') ?? ''))
        return send(
          res,
          403,
          'Bootstrap refused',
          html`<p>
            Only the operator may build the devops side from the
            <a href="${SETUP_PATH}">setup page</a> (from this machine, or with its setup code), with
            a page made in the last hour. Nothing was done; <code>kindler bootstrap</code> does the
            same from a terminal.
          </p>`,
        );
      if (building)
        return send(
          res,
          409,
          'Bootstrap running',
          html`<p>A bootstrap is running already; reload this page when it has ended.</p>`,
        );
      const run = options.bootstrap();
      building = run;
      let outcome;
      try {
        outcome = await run;
      } finally {
        building = null;
      }
      return send(
        res,
        outcome.ok ? 200 : 502,
        outcome.ok ? 'The devops side is built' : 'Bootstrap stopped',
        bootstrapPage(outcome),
      );
    }
    if (url.pathname !== SETUP_PATH && url.pathname !== `${SETUP_PATH}/callback`) return false;
    if (registered()) return alreadyRegistered(res);
    const host = req.headers.host ?? '';
    const base = (options.publicUrl ?? (isLoopbackHost(host) ? `http://${host}` : null))?.replace(
      /\/+$/,
      '',
    );
    if (url.pathname === SETUP_PATH) {
      const offered = url.searchParams.get('setup_code');
      if (!operator(req, offered))
        return send(
          res,
          403,
          'Setup is for the operator',
          html`<p>
            Registering the GitHub App is open only from this machine, or with the one-time setup
            code kindler-bot printed at start (also in
            <code>&lt;data dir&gt;/${SETUP_CODE_FILE}</code>, readable by its user only): open
            <code>${SETUP_PATH}?setup_code=&lt;code&gt;</code>. Nothing was done.
          </p>`,
        );
      if (!base)
        return send(
          res,
          400,
          'Set KINDLER_PUBLIC_URL',
          html`<p>
            This page was reached as <code>${host.slice(0, 100)}</code>, which is not this machine's
            loopback name; the app's webhook and callback addresses are taken only from
            <code>KINDLER_PUBLIC_URL</code> or a loopback address. Set
            <code>KINDLER_PUBLIC_URL</code> to the address GitHub reaches this server at, restart,
            and open this page again. Nothing was done.
          </p>`,
        );
      for (const [s, at] of states) if (now() - at > STATE_TTL_MS) states.delete(s);
      const state = randomBytes(16).toString('hex');
      states.set(state, now());
      const manifest = {
        ...(YAML.parse(fs.readFileSync(options.manifestPath, 'utf8')) as Record<string, unknown>),
        hook_attributes: {
          url: options.webhookProxyUrl ?? `${base}/api/github/webhooks`,
          active: true,
        },
        redirect_url: `${base}${SETUP_PATH}/callback`,
        // "Sign in with GitHub" returns here; GitHub refuses a redirect it was not given.
        callback_urls: [`${base}/kindler/login/callback`],
        request_oauth_on_install: false,
      };
      const org = url.searchParams.get('org');
      if (org !== null && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org))
        return send(
          res,
          400,
          'Register the GitHub App',
          html`<p>Not an organisation name: <code>${org}</code>.</p>`,
        );
      const target = `${web}/${org ? `organizations/${org}/` : ''}settings/apps/new?state=${state}`;
      const hook = options.webhookProxyUrl ?? `${base}/api/github/webhooks`;
      return send(
        res,
        200,
        'Register the GitHub App',
        registerPage({
          org,
          hook,
          target,
          manifest,
          web,
          state,
          offered,
          bootstrap: !!options.bootstrap,
        }),
      );
    }
    if (url.pathname === `${SETUP_PATH}/callback`) {
      const code = url.searchParams.get('code') ?? '';
      const state = url.searchParams.get('state') ?? '';
      const known = knownState(state);
      if (!known)
        return send(
          res,
          400,
          'Registration refused',
          html`<p>
            This link was not made by this server's <a href="${SETUP_PATH}">setup page</a> in the
            last hour (its <code>state</code> is unknown). Nothing was registered here; start again
            from the setup page.
          </p>`,
        );
      states.delete(known);
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(code))
        return send(res, 400, 'Registration refused', html`<p>GitHub sent no valid code.</p>`);
      let app;
      try {
        app = (await octokit.rest.apps.createFromManifest({ code })).data;
      } catch (error) {
        const status = httpStatusOf(error);
        return send(
          res,
          502,
          'Registration failed',
          html`<p>
            GitHub did not exchange the code${status ? ` (${status})` : ''}:
            ${messageOf(error).slice(0, 300)}. A code is good for an hour and once; start again from
            the <a href="${SETUP_PATH}">setup page</a>.
          </p>`,
        );
      }
      fs.mkdirSync(options.dataDir, { recursive: true });
      const keyFile = path.join(options.dataDir, APP_KEY_FILE);
      // Exclusive creation: a registration that raced this one (or a file put there meanwhile)
      // wins.
      try {
        fs.writeFileSync(keyFile, app.pem, { mode: 0o600, flag: 'wx' });
      } catch {
        return alreadyRegistered(res);
      }
      const lines = [
        `# The GitHub App ${app.slug ?? app.name} (${app.html_url}), ` +
          `registered ${new Date(now()).toISOString()}.`,
        `APP_ID=${app.id}`,
        `PRIVATE_KEY_PATH=${keyFile}`,
        `WEBHOOK_SECRET=${app.webhook_secret ?? ''}`,
        `GITHUB_CLIENT_ID=${app.client_id}`,
        `GITHUB_CLIENT_SECRET=${app.client_secret}`,
      ];
      fs.writeFileSync(path.join(options.dataDir, APP_ENV_FILE), `${lines.join('\n')}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      // The code has done its one job.
      fs.rmSync(path.join(options.dataDir, SETUP_CODE_FILE), { force: true });
      return send(
        res,
        200,
        'GitHub App registered',
        registeredPage(app, path.join(options.dataDir, APP_ENV_FILE)),
      );
    }
    return false;
  };
}
