// The dashboard's HTML, rendered on the server: semantic tables with captions and scoped headers,
// a degraded banner announced to screen readers, readable on a phone (tables scroll sideways
// inside their own box). One small script (assets/live.js) keeps a page current while operations
// run; everything works without it. Every value is escaped by the `html` template.
import type { ConsistencyReport } from '../consistency/compare.js';
import { NOBODY, listControls, type Viewer } from './controls.js';
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
}): string {
  const viewer = input.viewer ?? NOBODY;
  const now = input.now ?? new Date();
  const expires = (e: EnvironmentView) =>
    e.status === null ? '–' : e.pinned ? 'pinned' : e.expiresAt ? age(e.expiresAt, now) : 'never';
  const rows = input.environments.map((e) => {
    const status = e.status ?? 'unknown';
    const source = e.sourceUrl
      ? html` · ${link(e.sourceUrl, e.sourceUrl === 'cli' ? 'cli' : 'source')}`
      : '';
    return html`<tr>
      <th scope="row">${envLink(e.name)}</th>
      <td>${e.provider}</td>
      <td class="s-${status}">${status}</td>
      <td class="h-${e.health?.health ?? 'none'}" title="${e.health?.reason ?? 'not observed yet'}">
        ${e.health?.health ?? '–'}
      </td>
      <td>${e.httpPort} / ${e.httpsPort}</td>
      <td>${e.subnet ?? '–'}</td>
      <td>${link(e.url, e.url)}</td>
      <td>${age(e.createdAt, now)}</td>
      <td>${expires(e)}</td>
      <td>${e.requestedBy ?? '–'}${source}</td>
    </tr>`;
  });
  const count = input.environments.length;
  const table = count
    ? scrollTable(`${count} environment${count === 1 ? '' : 's'}`, HEADINGS, rows)
    : html`<p>
        No environments yet. Create one with <code>/env create &lt;name&gt;</code> in an issue, or
        <code>kindler create &lt;name&gt;</code>.
      </p>`;
  const next = input.next
    ? html`<p>
        <a href="/kindler?after=${encodeURIComponent(input.next)}" rel="next"
          >Next page after ${input.next} →</a
        >
      </p> `
    : '';
  const body = html`<h2 id="environments">Environments</h2>
    ${table} ${next}${input.degraded ? '' : listControls(viewer, input.values)}
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
