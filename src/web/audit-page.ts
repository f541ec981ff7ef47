// The console's audit page: every operation and every version of a configuration, newest first,
// with who asked, from where, and the outcome; filtered by who, which environment and since when.
import type { AuditEntry } from '../store/versions.js';
import type { Viewer } from './controls.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { scrollTable, when } from './sections.js';

const HEADINGS = ['when', 'environment', 'what', 'outcome', 'by', 'via'];

export function auditPage(input: {
  entries: AuditEntry[];
  filter: { actor?: string | null; env?: string | null; since?: string | null };
  viewer: Viewer;
  error: string | null;
}): string {
  const now = new Date();
  const f = input.filter;
  const rows = input.entries.map(
    (e) =>
      html`<tr>
        <td>${when(e.at.toISOString(), now)}</td>
        <th scope="row">
          <a href="/kindler/environments/${encodeURIComponent(e.env)}">${e.env}</a>
        </th>
        <td>${e.type === 'operation' && e.operationId ? `${e.what} #${e.operationId}` : e.what}</td>
        <td class="st-${e.outcome ?? 'none'}">${e.outcome ?? '–'}</td>
        <td>${e.actor ?? '–'}</td>
        <td>${e.source}${e.via ? ` (${e.via})` : ''}</td>
      </tr>`,
  );
  const form = html`<form method="get" action="/kindler/audit" class="actions" role="search">
    <label for="a-actor">Who</label>
    <input id="a-actor" name="actor" value="${f.actor ?? ''}" />
    <label for="a-env">Environment</label>
    <input id="a-env" name="env" value="${f.env ?? ''}" />
    <label for="a-since">Since</label>
    <input id="a-since" name="since" value="${f.since ?? ''}" placeholder="24h" size="8" />
    <button type="submit">Filter</button>
  </form>`;
  const body = html`<h2>Audit</h2>
    ${form}
    ${
      input.error
        ? html`<div class="notice error" role="alert">${input.error}</div>`
        : rows.length
          ? scrollTable(`${rows.length} entries, newest first`, HEADINGS, rows)
          : html`<p>Nothing recorded matches.</p>`
    }`;
  return layout('audit', body, null, undefined, input.viewer);
}
