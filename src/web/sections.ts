// The list page's sections: what GitHub has not taken, and the consistency report.
import { COLUMNS, type Cell, type ConsistencyReport } from '../consistency/compare.js';
import { spell } from '../domain/index.js';
import { CELL_SYMBOL } from '../consistency/symbols.js';
import type { UndeliveredView } from './data.js';
import { html, joinHtml, type Html, type Part } from './html.js';

export const CELL: Record<Cell, string> = { ...CELL_SYMBOL, ok: '✓ ok' };

const headings = (names: string[]) => names.map((n) => html`<th scope="col">${n}</th>`);

/** A table that scrolls sideways in its own box on a narrow screen: caption, headings, rows. */
export const scrollTable = (caption: Part, columns: string[], rows: Html[]): Html =>
  html`<div class="scroll">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          ${headings(columns)}
        </tr>
      </thead>
      <tbody>
        ${joinHtml(rows)}
      </tbody>
    </table>
  </div>`;

/** What GitHub has not taken: shown only when there is something, so it is noticed. */
export function undeliveredSection(writes: UndeliveredView[], now: Date): Html {
  if (writes.length === 0) return html``;
  const rows = writes.map((w) => {
    const state = w.state === 'pending' ? 'will be tried again' : w.state;
    return html`<tr>
      <th scope="row">${w.what}</th>
      <td>${w.repo}</td>
      <td>${w.operation === null ? '–' : `#${w.operation}`}</td>
      <td class="${w.state === 'pending' ? 'st-warning' : 'st-failed'}">${state}</td>
      <td class="wrap">${w.error ?? ''}</td>
      <td>${age(w.lastTried, now)}</td>
    </tr>`;
  });
  const columns = ['what', 'repository', 'operation', 'state', 'GitHub said', 'last tried'];
  const caption = `${writes.length} write${writes.length === 1 ? '' : 's'} GitHub has not taken`;
  return html` <h2 id="github-writes">Not delivered to GitHub</h2>
    ${scrollTable(caption, columns, rows)}`;
}

export function reportSection(report: ConsistencyReport | null, degraded: boolean): Html {
  if (!report)
    return html`<h2 id="consistency">Consistency</h2>
      <p class="muted">
        ${
          degraded
            ? 'Not available while the database is unreachable.'
            : html`No check has run yet. Run <code>kindler check</code> or comment
                <code>/env check</code>.`
        }
      </p>`;
  const systems = report.systems.map(
    (s) =>
      html`<tr>
        <th scope="row">${s.system}</th>
        <td class="c-${s.state}">${s.state}</td>
        <td class="wrap">${s.detail}</td>
      </tr>`,
  );
  const differences = report.discrepancies.map(
    (d) =>
      html`<tr>
        <th scope="row">${d.name}</th>
        <td>${d.system}</td>
        <td class="c-${d.kind}">${d.kind}</td>
        <td class="wrap">${d.detail}</td>
        <td><code>${spell(d.fix, 'cli')}</code></td>
      </tr>`,
  );
  const diffs = differences.length
    ? scrollTable('Differences', ['environment', 'system', 'class', 'detail', 'fix'], differences)
    : '';
  const rows = report.matrix.map(
    (r) =>
      html`<tr>
        <th scope="row">
          ${r.name}${r.inDatabase ? '' : html` <span class="muted">(no row)</span>`}
        </th>
        ${COLUMNS.map((c) => html`<td class="c-${r.cells[c]}">${CELL[r.cells[c]]}</td>`)}
      </tr>`,
  );
  const matrix = rows.length ? scrollTable('Matrix', ['environment', ...COLUMNS], rows) : '';
  return html`<h2 id="consistency">Consistency</h2>
    <p class="${report.consistent ? 'consistent' : 'inconsistent'}">
      <strong>${report.summary}</strong> <span class="muted">checked ${report.checkedAt}</span>
    </p>
    ${scrollTable('Systems', ['system', 'state', 'detail'], systems)} ${diffs} ${matrix}`;
}

export function age(from: string | null, now: Date): string {
  if (!from) return '–';
  const s = Math.round((now.getTime() - new Date(from).getTime()) / 1000);
  const abs = Math.abs(s);
  const text =
    abs < 90
      ? `${abs}s`
      : abs < 5400
        ? `${Math.round(abs / 60)}m`
        : abs < 129_600
          ? `${Math.round(abs / 3600)}h`
          : `${Math.round(abs / 86_400)}d`;
  return s >= 0 ? text : `in ${text}`;
}

/**
 * A time as people read it: how long ago (or until), with the instant in `datetime` — the page
 * script shows it in the reader's own zone on hover; without the script, its UTC time.
 */
export function when(iso: string | null, now: Date): Html | string {
  if (!iso) return '–';
  const text = age(iso, now);
  return html`<time datetime="${iso}" title="${iso}"
    >${text.startsWith('in ') ? text : `${text} ago`}</time
  >`;
}
