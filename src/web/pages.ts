// The dashboard's HTML, rendered on the server: semantic tables with captions and scoped headers,
// a degraded banner announced to screen readers, readable on a phone (tables scroll sideways
// inside their own box). One small script (assets/live.js) keeps a page current while operations
// run; everything works without it. Every value is escaped by the `html` template.
import type { ConsistencyReport } from '../consistency/compare.js';
import { NOBODY, listControls, rowControls, type Viewer } from './controls.js';
import { ENV_STATUSES, HEALTH_STATES, labelsText } from '../domain/index.js';
import type { Html } from './html.js';
import type { Degradation, EnvironmentView, UndeliveredView } from './data.js';
import { html } from './html.js';
import { age, reportSection, scrollTable, undeliveredSection } from './sections.js';
import { layout, link, type Notice } from './layout.js';

const envLink = (name: string) =>
  html`<a href="/kindler/environments/${encodeURIComponent(name)}">${name}</a>`;

const HEADINGS = [
  'name',
  'provider',
  'status',
  'health',
  'http / https',
  'subnet',
  'url',
  'age',
  'expires',
  'asked by',
  'actions',
];

export function listPage(input: {
  environments: EnvironmentView[];
  /** Where the next page starts (the environments are shown a page at a time), or none. */
  next?: string | null;
  report: ConsistencyReport | null;
  /** Writes to GitHub not taken (none when absent). */
  undelivered?: UndeliveredView[];
  degraded: Degradation | null;
  now?: Date;
  viewer?: Viewer;
  /** A refusal, or a prune preview to confirm. */
  notice?: Notice | null;
  /** What a refused create form held, given back to it. */
  values?: Record<string, string>;
  /** The list's filter, as asked for. */
  filter?: ListFilter;
}): string {
  const viewer = input.viewer ?? NOBODY;
  const now = input.now ?? new Date();
  const expires = (e: EnvironmentView) =>
    e.status === null ? '–' : e.pinned ? 'pinned' : e.expiresAt ? age(e.expiresAt, now) : 'never';
  const created = (at: string | null) =>
    at ? html`<time datetime="${at}" title="${at}">${age(at, now)}</time>` : '–';
  const rows = input.environments.map((e) => {
    const status = e.status ?? 'unknown';
    const source = e.sourceUrl
      ? html` · ${link(e.sourceUrl, e.sourceUrl === 'cli' ? 'cli' : 'source')}`
      : '';
    return html`<tr>
      <th scope="row">
        ${envLink(e.name)}${
          e.labels && Object.keys(e.labels).length
            ? html` <small class="labels">${labelsText(e.labels)}</small>`
            : ''
        }
      </th>
      <td>${e.provider}</td>
      <td class="s-${status}">${status}</td>
      <td class="h-${e.health?.health ?? 'none'}" title="${e.health?.reason ?? 'not observed yet'}">
        ${e.health?.health ?? '–'}
      </td>
      <td>${e.httpPort} / ${e.httpsPort}</td>
      <td>${e.subnet ?? '–'}</td>
      <td>${link(e.url, e.url)}</td>
      <td>${created(e.createdAt)}</td>
      <td>${expires(e)}</td>
      <td>${e.requestedBy ?? '–'}${source}</td>
      <td>${rowControls(viewer, e.name, e.status)}</td>
    </tr>`;
  });
  const count = input.environments.length;
  const filter = input.filter ?? {};
  const filtered = Boolean(filter.q || filter.status || filter.health || filter.label);
  const table = count
    ? scrollTable(`${count} environment${count === 1 ? '' : 's'}`, HEADINGS, rows)
    : filtered
      ? html`<p>No environment matches. <a href="/kindler">Show all</a>.</p>`
      : emptyState(viewer);
  const params = new URLSearchParams(
    Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])),
  );
  if (input.next) params.set('after', input.next);
  const next = input.next
    ? html`<p>
        <a href="/kindler?${params.toString()}" rel="next">Next page after ${input.next} →</a>
      </p> `
    : '';
  const body = html`<h2 id="environments">Environments</h2>
    ${filterForm(filter)} ${table}
    ${next}${input.degraded ? '' : listControls(viewer, input.values)}
    ${reportSection(input.report, input.degraded !== null)}
    ${undeliveredSection(input.undelivered ?? [], now)}`;
  return layout('environments', body, input.degraded, '', viewer, input.notice);
}

export function notFoundPage(name: string, degraded: Degradation | null): string {
  return layout(
    'not found',
    html`<h2>Not found</h2>
      <p>No environment named <code>${name}</code>. <a href="/kindler">All environments</a>.</p>`,
    degraded,
  );
}

export interface ListFilter {
  q?: string | null | undefined;
  status?: string | null | undefined;
  health?: string | null | undefined;
  /** `key=value` labels, comma-separated, every one of them carried. */
  label?: string | null | undefined;
}

/** Search and filter: a GET form, so a filtered list is a link to share. */
function filterForm(filter: ListFilter): Html {
  const select = (
    id: string,
    name: 'status' | 'health',
    label: string,
    values: readonly string[],
  ) =>
    html`<label for="${id}">${label}</label>
      <select id="${id}" name="${name}">
        <option value="">any</option>
        ${values.map((v) =>
          v === filter[name]
            ? html`<option value="${v}" selected>${v}</option>`
            : html`<option value="${v}">${v}</option>`,
        )}
      </select>`;
  return html`<form method="get" action="/kindler" class="actions filter" role="search">
    <label for="f-q">Search</label>
    <input id="f-q" name="q" type="search" value="${filter.q ?? ''}" placeholder="name" />
    ${select('f-status', 'status', 'Status', ENV_STATUSES)}
    ${select('f-health', 'health', 'Health', HEALTH_STATES)}
    <label for="f-label">Labels</label>
    <input
      id="f-label"
      name="label"
      type="search"
      value="${filter.label ?? ''}"
      placeholder="team=a"
    />
    <button type="submit">Filter</button>
  </form>`;
}

/** No environments: how to make one, and how to be allowed to here. */
function emptyState(viewer: Viewer): Html {
  const how = viewer.allowed.has('create')
    ? html`or with the form below.`
    : viewer.signIn
      ? html`or here once you <a href="/kindler/login">sign in</a>.`
      : html`or here once you open <code>/kindler?token=&lt;KINDLER_DASHBOARD_TOKEN&gt;</code> (or
          send it as <code>Authorization: Bearer</code>).`;
  return html`<p>
    No environments yet. Create one with <code>/env create &lt;name&gt;</code> in an issue,
    <code>kindler create &lt;name&gt;</code>, ${how}
  </p>`;
}
