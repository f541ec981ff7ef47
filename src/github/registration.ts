// Registering the GitHub App from the running bot, as Probot apps do (GitHub's manifest flow): with
// no app configured, /kindler/setup offers a button that creates the app on GitHub from `app.yml`
// (its webhook pointed at this server), and GitHub sends the browser back to
// /kindler/setup/callback with a one-time code that this server exchanges for the app's id, key
// and webhook secret. They are written beside the data (`github-app.env`, `github-app.pem`, both
// readable by this user only) and read at the next start; nothing secret is shown or logged.
// A `state` made for each page and remembered for an hour ties the callback to the page.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import YAML from 'yaml';
import { httpStatusOf, messageOf } from '../domain/index.js';
import type { Handler } from '../server/http-server.js';
import { esc, page } from '../web/pages.js';

export const SETUP_PATH = '/kindler/setup';
const STATE_TTL_MS = 3_600_000;
export const APP_ENV_FILE = 'github-app.env';
export const APP_KEY_FILE = 'github-app.pem';

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
  now?: () => number;
}

/** The app's credentials from an earlier registration, to load before the configuration is read. */
export function registeredAppEnv(dataDir: string): string | null {
  const file = path.join(dataDir, APP_ENV_FILE);
  return fs.existsSync(file) ? file : null;
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
  const send = (res: Parameters<Handler>[1], status: number, title: string, body: string) => {
    res
      .writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(page(title, body));
    return true;
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const base = (options.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`).replace(
      /\/+$/,
      '',
    );
    if (url.pathname === SETUP_PATH) {
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
      };
      const org = url.searchParams.get('org');
      if (org !== null && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org))
        return send(
          res,
          400,
          'Register the GitHub App',
          `<p>Not an organisation name: <code>${esc(org)}</code>.</p>`,
        );
      const target = `${web}/${org ? `organizations/${org}/` : ''}settings/apps/new?state=${state}`;
      return send(
        res,
        200,
        'Register the GitHub App',
        `<p>kindler-bot has no GitHub App yet. This creates one ${org ? `owned by <code>${esc(org)}</code>` : 'owned by your account'} from <code>app.yml</code>, its webhooks sent to <code>${esc(`${base}/api/github/webhooks`)}</code> (that address must reach this server; set <code>KINDLER_PUBLIC_URL</code> or use <code>WEBHOOK_PROXY_URL</code> otherwise). For an organisation, open <code>${SETUP_PATH}?org=&lt;name&gt;</code>.</p>
<form action="${esc(target)}" method="post">
<input type="hidden" name="manifest" value="${esc(JSON.stringify(manifest))}">
<button type="submit">Register the GitHub App on ${esc(web.replace(/^https?:\/\//, ''))}</button>
</form>`,
      );
    }
    if (url.pathname === `${SETUP_PATH}/callback`) {
      const code = url.searchParams.get('code') ?? '';
      const state = url.searchParams.get('state') ?? '';
      const known = [...states.keys()].find(
        (s) => s.length === state.length && timingSafeEqual(Buffer.from(s), Buffer.from(state)),
      );
      if (!known || now() - (states.get(known) ?? 0) > STATE_TTL_MS)
        return send(
          res,
          400,
          'Registration refused',
          `<p>This link was not made by this server's <a href="${SETUP_PATH}">setup page</a> in the last hour (its <code>state</code> is unknown). Nothing was registered here; start again from the setup page.</p>`,
        );
      states.delete(known);
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(code))
        return send(res, 400, 'Registration refused', '<p>GitHub sent no valid code.</p>');
      let app;
      try {
        app = (await octokit.rest.apps.createFromManifest({ code })).data;
      } catch (error) {
        const status = httpStatusOf(error);
        return send(
          res,
          502,
          'Registration failed',
          `<p>GitHub did not exchange the code${status ? ` (${status})` : ''}: ${esc(messageOf(error).slice(0, 300))}. A code is good for an hour and once; start again from the <a href="${SETUP_PATH}">setup page</a>.</p>`,
        );
      }
      fs.mkdirSync(options.dataDir, { recursive: true });
      const keyFile = path.join(options.dataDir, APP_KEY_FILE);
      fs.writeFileSync(keyFile, app.pem, { mode: 0o600 });
      const lines = [
        `# The GitHub App ${app.slug ?? app.name} (${app.html_url}), registered ${new Date(now()).toISOString()}.`,
        `APP_ID=${app.id}`,
        `PRIVATE_KEY_PATH=${keyFile}`,
        `WEBHOOK_SECRET=${app.webhook_secret ?? ''}`,
        `GITHUB_CLIENT_ID=${app.client_id}`,
        `GITHUB_CLIENT_SECRET=${app.client_secret}`,
      ];
      fs.writeFileSync(path.join(options.dataDir, APP_ENV_FILE), `${lines.join('\n')}\n`, {
        mode: 0o600,
      });
      return send(
        res,
        200,
        'GitHub App registered',
        `<p>Registered <a href="${esc(app.html_url)}">${esc(app.name)}</a>. Its id, key and webhook secret are in <code>${esc(path.join(options.dataDir, APP_ENV_FILE))}</code> (readable by this user only).</p>
<ol><li>Restart kindler-bot: it reads that file at start.</li>
<li><a href="${esc(`${app.html_url}/installations/new`)}">Install the app</a> on the config repository (and the repositories whose comments it should answer).</li></ol>`,
      );
    }
    return false;
  };
}
