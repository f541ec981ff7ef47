// The setup pages' bodies: registering the GitHub App, what a bootstrap made, the app registered.
import { html, joinHtml, type Html } from '../web/html.js';

export const SETUP_PATH = '/kindler/setup';

/** What the bootstrap of the devops side made, piece by piece. */
export function bootstrapPage(outcome: {
  ok: boolean;
  results: { outcome: string; title: string; detail: string }[];
}): Html {
  const items = joinHtml(
    outcome.results.map(
      (r) =>
        html`<li>
          ${r.outcome === 'failed' ? '✗' : r.outcome === 'made' ? '✓' : '='}
          <strong>${r.title}</strong> — ${r.detail}
        </li>`,
    ),
  );
  return html`<ul>
      ${items}
    </ul>
    <p>
      ${
        outcome.ok
          ? html`The settings are in <code>devops.env</code> under the data dir; restart kindler-bot
              to use them.`
          : html`What was made is kept; run it again (here, or <code>kindler bootstrap</code>) to
              resume.`
      }
    </p>`;
}

/** The page that registers the GitHub App from its manifest (and offers the bootstrap). */
export function registerPage(p: {
  org: string | null;
  hook: string;
  target: string;
  manifest: Record<string, unknown>;
  web: string;
  state: string;
  offered: string | null;
  bootstrap: boolean;
}): Html {
  return html`<p>
      kindler-bot has no GitHub App yet. This creates one
      ${p.org ? html`owned by <code>${p.org}</code>` : 'owned by your account'} from
      <code>app.yml</code>, its webhooks sent to <code>${p.hook}</code> (that address must reach
      this server; set <code>KINDLER_PUBLIC_URL</code> or use
      <code>WEBHOOK_PROXY_URL</code> otherwise). For an organisation, open
      <code>${SETUP_PATH}?org=&lt;name&gt;</code>.
    </p>
    <form action="${p.target}" method="post">
      <input type="hidden" name="manifest" value="${JSON.stringify(p.manifest)}" />
      <button type="submit">Register the GitHub App on ${p.web.replace(/^https?:\/\//, '')}</button>
    </form>
    ${
      p.bootstrap
        ? html` <h2>The devops side</h2>
            <p>
              Argo CD, the HAProxy gateway and Portainer in a devops k3d cluster on this machine's
              Docker, as <code>kindler bootstrap</code> builds them: each piece checked first and
              made only if missing.
            </p>
            <form action="${SETUP_PATH}/bootstrap" method="post">
              <input type="hidden" name="state" value="${p.state}" />${
                p.offered
                  ? html`<input type="hidden" name="setup_code" value="${p.offered}" />`
                  : ''
              }
              <button type="submit">Build the devops side</button>
            </form>`
        : ''
    }`;
}

/** The app is registered: where its settings are and what to do next. */
export function registeredPage(app: { html_url: string; name: string }, envFile: string): Html {
  return html`<p>
      Registered <a href="${app.html_url}">${app.name}</a>. Its id, key and webhook secret are in
      <code>${envFile}</code> (readable by this user only).
    </p>
    <ol>
      <li>Restart kindler-bot: it reads that file at start.</li>
      <li>
        <a href="${`${app.html_url}/installations/new`}">Install the app</a> on the config
        repository (and the repositories whose comments it should answer).
      </li>
    </ol>`;
}
