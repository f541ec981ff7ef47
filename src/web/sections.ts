// The list page's sections: what GitHub has not taken, and the consistency report.
import { COLUMNS, type Cell, type ConsistencyReport } from '../consistency/compare.js';
import { spell } from '../domain/index.js';
import { CELL_SYMBOL } from '../consistency/symbols.js';
import type { UndeliveredView } from './data.js';
import { esc } from './html.js';

export const CELL: Record<Cell, string> = { ...CELL_SYMBOL, ok: '✓ ok' };

/** What GitHub has not taken: shown only when there is something, so it is noticed. */
export function undeliveredSection(writes: UndeliveredView[], now: Date): string {
  if (writes.length === 0) return '';
  const rows = writes
    .map(
      (w) =>
        `<tr><th scope="row">${esc(w.what)}</th><td>${esc(w.repo)}</td><td>${w.operation === null ? '–' : `#${w.operation}`}</td><td class="${w.state === 'pending' ? 'st-warning' : 'st-failed'}">${esc(w.state === 'pending' ? 'will be tried again' : w.state)}</td><td class="wrap">${esc(w.error ?? '')}</td><td>${age(w.lastTried, now)}</td></tr>`,
    )
    .join('\n');
  return `
<h2 id="github-writes">Not delivered to GitHub</h2>
<div class="scroll"><table><caption>${writes.length} write${writes.length === 1 ? '' : 's'} GitHub has not taken</caption>
<thead><tr><th scope="col">what</th><th scope="col">repository</th><th scope="col">operation</th><th scope="col">state</th><th scope="col">GitHub said</th><th scope="col">last tried</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
}

export function reportSection(report: ConsistencyReport | null, degraded: boolean): string {
  if (!report)
    return `<h2 id="consistency">Consistency</h2>\n<p class="muted">${degraded ? 'Not available while the database is unreachable.' : 'No check has run yet. Run <code>kindler check</code> or comment <code>/env check</code>.'}</p>`;
  const systems = report.systems
    .map(
      (s) =>
        `<tr><th scope="row">${esc(s.system)}</th><td class="c-${s.state === 'ok' ? 'ok' : s.state}">${esc(s.state)}</td><td class="wrap">${esc(s.detail)}</td></tr>`,
    )
    .join('\n');
  const diffs = report.discrepancies.length
    ? `<div class="scroll"><table><caption>Differences</caption>
<thead><tr><th scope="col">environment</th><th scope="col">system</th><th scope="col">class</th><th scope="col">detail</th><th scope="col">fix</th></tr></thead>
<tbody>
${report.discrepancies.map((d) => `<tr><th scope="row">${esc(d.name)}</th><td>${esc(d.system)}</td><td class="c-${esc(d.kind)}">${esc(d.kind)}</td><td class="wrap">${esc(d.detail)}</td><td><code>${esc(spell(d.fix, 'cli'))}</code></td></tr>`).join('\n')}
</tbody></table></div>`
    : '';
  const matrix = report.matrix.length
    ? `<div class="scroll"><table><caption>Matrix</caption>
<thead><tr><th scope="col">environment</th>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead>
<tbody>
${report.matrix.map((r) => `<tr><th scope="row">${esc(r.name)}${r.inDatabase ? '' : ' <span class="muted">(no row)</span>'}</th>${COLUMNS.map((c) => `<td class="c-${r.cells[c]}">${CELL[r.cells[c]]}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>`
    : '';
  return `<h2 id="consistency">Consistency</h2>
<p class="${report.consistent ? 'consistent' : 'inconsistent'}"><strong>${esc(report.summary)}</strong> <span class="muted">checked ${esc(report.checkedAt)}</span></p>
<div class="scroll"><table><caption>Systems</caption><thead><tr><th scope="col">system</th><th scope="col">state</th><th scope="col">detail</th></tr></thead>
<tbody>
${systems}
</tbody></table></div>
${diffs}
${matrix}`;
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
