// The consistency report and a repair's actions as plain text for the terminal (`kindler check`,
// `sync`, `prune`). GitHub's Markdown of the same is github/consistency-markdown.ts.
import type { ConsistencyReport } from '../consistency/compare.js';
import type { RepairAction } from '../consistency/repair.js';
import { NOTHING_TO_REPAIR, OUTCOME_MARK, STATE_SYMBOL } from '../consistency/symbols.js';
import { spell } from '../domain/index.js';

export function renderReportText(report: ConsistencyReport): string {
  const lines = [`${report.summary} (checked ${report.checkedAt})`, '', 'Systems:'];
  const width = Math.max(...report.systems.map((s) => s.system.length));
  for (const s of report.systems)
    lines.push(`  ${s.system.padEnd(width)}  ${STATE_SYMBOL[s.state].padEnd(9)}  ${s.detail}`);
  if (report.discrepancies.length) {
    lines.push('', 'Differences:');
    for (const d of report.discrepancies)
      lines.push(
        `  ✗ ${d.kind.padEnd(8)} ${d.system.padEnd(9)} ${d.name}: ${d.detail}`,
        `      fix: ${spell(d.fix, 'cli')}`,
      );
  }
  if (report.busy.length)
    lines.push(
      '',
      `Busy (not compared): ${report.busy.map((b) => `${b.name} (${b.operation})`).join(', ')}`,
    );
  return lines.join('\n');
}

export function renderActionsText(
  actions: RepairAction[],
  verb: 'sync' | 'prune',
  confirmed: boolean,
): string {
  if (actions.length === 0) return NOTHING_TO_REPAIR[verb];
  const head =
    verb === 'prune' && !confirmed ? 'Would do (preview; nothing was changed):' : 'Actions:';
  return [
    head,
    ...actions.map((a) => {
      const detail = a.detail ? ` — ${a.detail}` : '';
      const next = a.fix ? ` (next: ${spell(a.fix, 'cli')})` : '';
      return `  ${OUTCOME_MARK[a.outcome]} ${a.name}: ${a.action}${detail}${next}`;
    }),
  ].join('\n');
}

/** Markdown: summary, systems, differences with fixes, and the matrix (cut to `maxRows`). */
