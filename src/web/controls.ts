// The console's controls: small server-rendered forms, each posting one action with the session's
// CSRF token, shown only when the signed-in viewer may use it (the server refuses the others
// whatever a page sends). Labels for every field; a delete asks for the name typed again.
import type { PrunePreview } from '../actions/index.js';
import type { Verb } from '../commands/verbs.js';
import { spell, type NextCommand } from '../domain/index.js';
import { html, joinHtml, type Html } from './html.js';

/** Who looks at a page, and what they may do there. */
export interface Viewer {
  login: string | null;
  csrf: string | null;
  /** The verbs the page may offer (decided per environment, as for a comment). */
  allowed: ReadonlySet<Verb>;
  /** Whether "Sign in with GitHub" is offered (the app's OAuth client is configured). */
  signIn: boolean;
}

export const NOBODY: Viewer = { login: null, csrf: null, allowed: new Set(), signIn: false };

const csrfField = (viewer: Viewer): Html =>
  html`<input type="hidden" name="csrf" value="${viewer.csrf ?? ''}" />`;

const button = (viewer: Viewer, action: string, label: string, extra: Html | '' = ''): Html =>
  html`<form method="post" action="${action}" class="inline">
    ${csrfField(viewer)}${extra}<button type="submit">${label}</button>
  </form>`;

/** The header's sign-in state. */
export function account(viewer: Viewer): Html {
  if (viewer.login)
    return html`<span class="account"
      >signed in as <strong>${viewer.login}</strong> ${button(
        viewer,
        '/kindler/logout',
        'Sign out',
      )}</span
    >`;
  return viewer.signIn
    ? html`<span class="account"><a href="/kindler/login">Sign in with GitHub</a></span>`
    : html``;
}

/** The list page's create form (holding `values` again after a refusal) and consistency buttons. */
export function listControls(viewer: Viewer, values: Record<string, string> = {}): Html {
  const parts: Html[] = [];
  const provider = values.provider === 'kind' ? 'kind' : 'k3d';
  const option = (p: string) =>
    p === provider
      ? html`<option value="${p}" selected>${p}</option>`
      : html`<option value="${p}">${p}</option>`;
  const box = (key: string, id: string) =>
    values[key] === 'false'
      ? html`<input type="checkbox" id="${id}" name="${key}" />`
      : html`<input type="checkbox" id="${id}" name="${key}" checked />`;
  if (viewer.allowed.has('create'))
    parts.push(
      html`<form
        method="post"
        action="/kindler/environments"
        class="create"
        aria-labelledby="create-title"
      >
        <h2 id="create-title">Create an environment</h2>
        ${csrfField(viewer)}
        <p>
          <label for="c-name">Name</label>
          <input
            id="c-name"
            name="name"
            required
            pattern="[a-z0-9][a-z0-9-]*"
            maxlength="46"
            autocomplete="off"
            value="${values.name ?? ''}"
          />
        </p>
        <p>
          <label for="c-provider">Provider</label>
          <select id="c-provider" name="provider">
            ${option('k3d')}${option('kind')}
          </select>
        </p>
        <p>
          <label for="c-ttl">Lifetime</label>
          <input
            id="c-ttl"
            name="ttl"
            placeholder="24h, 3d or never"
            size="12"
            value="${values.ttl ?? ''}"
          />
        </p>
        <p>
          ${box('portainer', 'c-portainer')}
          <label for="c-portainer">Register in Portainer</label> ${box('haproxy', 'c-haproxy')}
          <label for="c-haproxy">Route through HAProxy</label>
        </p>
        <p><button type="submit">Create</button></p>
      </form>`,
    );
  const label = { check: 'Check now', sync: 'Sync', prune: 'Preview prune' } as const;
  const checks = (['check', 'sync', 'prune'] as const).filter((v) => viewer.allowed.has(v));
  if (checks.length) {
    const buttons = checks.map((v) => button(viewer, `/kindler/consistency/${v}`, label[v]));
    parts.push(html`<p class="actions">${joinHtml(buttons, ' ')}</p>`);
  }
  return joinHtml(parts);
}

/** A prune preview's confirmation: it names the preview, and only what it listed is removed. */
export function pruneConfirm(viewer: Viewer, preview: PrunePreview | null): Html {
  if (!preview) return html`<p>Nothing to prune: every name a system holds has a row.</p>`;
  const { names } = preview;
  const listed = joinHtml(
    names.map((n) => html`<code>${n}</code>`),
    ', ',
  );
  const until = preview.expiresAt.toISOString();
  return html`<form method="post" action="/kindler/consistency/prune">
    ${csrfField(viewer)}<input type="hidden" name="confirm" value="${preview.id}" />
    <p>
      Remove what ${listed} still hold${names.length === 1 ? 's' : ''}? Branches are archived first.
      (Preview <code>${preview.id}</code>, until ${until}.)
    </p>
    <p>
      <button type="submit">Prune ${names.length === 1 ? 'it' : `these ${names.length}`}</button>
    </p>
  </form>`;
}

/** An environment's controls: stop, start, retry, cancel, extend, delete with the name typed. */
export function environmentControls(
  viewer: Viewer,
  name: string,
  status: string | null,
  /** The newest operation's status: what retry and cancel can act on. */
  last: string | null,
): Html {
  const at = (action: string) => `/kindler/environments/${encodeURIComponent(name)}/${action}`;
  const can = (v: Verb) => viewer.allowed.has(v);
  const parts: Html[] = [];
  if (can('stop') && status === 'ready') parts.push(button(viewer, at('stop'), 'Stop'));
  if (can('start') && (status === 'stopped' || status === 'ready'))
    parts.push(button(viewer, at('start'), 'Start'));
  if (can('retry') && (last === 'failed' || last === 'cancelled'))
    parts.push(button(viewer, at('retry'), 'Retry'));
  if (can('cancel') && (last === 'queued' || last === 'running'))
    parts.push(button(viewer, at('cancel'), 'Cancel'));
  if (can('extend'))
    parts.push(
      button(
        viewer,
        at('extend'),
        'Extend',
        html`<label for="x-duration">by</label>
          <input id="x-duration" name="duration" value="24h" size="6" /> `,
      ),
    );
  if (!parts.length && !can('delete')) return html``;
  const remove = can('delete')
    ? html`<form method="post" action="${at('delete')}" class="delete">
        ${csrfField(viewer)}
        <label for="d-confirm">Type <code>${name}</code> to delete it</label>
        <input id="d-confirm" name="confirm" autocomplete="off" required />
        <button type="submit">Delete</button>
      </form>`
    : '';
  return html`<section aria-labelledby="actions">
    <h2 id="actions">Actions</h2>
    <p class="actions">${joinHtml(parts, ' ')}</p>
    ${remove}
  </section>`;
}

/** A failed operation's fix, as a button when it is one of the console's actions. */
export function fixButton(viewer: Viewer, name: string, fix: NextCommand | null): Html {
  if (!fix) return html``;
  const verb = 'verb' in fix ? fix.verb : null;
  const direct = ['retry', 'start', 'stop', 'cancel'] as const;
  const which = direct.find((v) => v === verb);
  if (which && viewer.allowed.has(which) && !('first' in fix && fix.first))
    return html` ${button(
      viewer,
      `/kindler/environments/${encodeURIComponent(name)}/${which}`,
      `Fix: ${spell(fix, 'comment')}`,
    )}`;
  return html` — next: <code>${spell(fix, 'cli')}</code>`;
}

/** A row's quick actions in the list: stop a ready environment, start a stopped one. */
export function rowControls(viewer: Viewer, name: string, status: string | null): Html | '' {
  const at = (action: string) => `/kindler/environments/${encodeURIComponent(name)}/${action}`;
  if (status === 'ready' && viewer.allowed.has('stop')) return button(viewer, at('stop'), 'Stop');
  if (status === 'stopped' && viewer.allowed.has('start'))
    return button(viewer, at('start'), 'Start');
  return '';
}
