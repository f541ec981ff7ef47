// The consistency report as a person reads it: plain text for the terminal, Markdown for a
// comment, the check run and the drift issue. Same content everywhere: the systems and how they
// were read, the differences with their fixes, and (Markdown) the matrix.
import type { Cell, ConsistencyReport } from '../consistency/compare.js';
import { COLUMNS } from '../consistency/compare.js';
import type { RepairAction } from '../consistency/repair.js';
import { spell, type NextCommand } from '../domain/index.js';
import { inlineText } from './markdown.js';

/** How a cell of the matrix reads, everywhere it is shown. */
export const CELL_SYMBOL: Record<Cell, string> = {
  ok: '✓',
  missing: '✗ missing',
  orphan: '✗ orphan',
  mismatch: '≠ mismatch',
  skipped: 'skipped',
  unknown: '? unknown',
  busy: '⏳ busy',
  absent: '–',
};
const STATE: Record<'ok' | 'skipped' | 'unknown', string> = {
  ok: '✓',
  skipped: '– skipped',
  unknown: '? unknown',
};

export function renderReportText(report: ConsistencyReport): string {
  const lines = [`${report.summary} (checked ${report.checkedAt})`, '', 'Systems:'];
  const width = Math.max(...report.systems.map((s) => s.system.length));
  for (const s of report.systems)
    lines.push(`  ${s.system.padEnd(width)}  ${STATE[s.state].padEnd(9)}  ${s.detail}`);
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

const MARK: Record<RepairAction['outcome'], string> = {
  planned: '•',
  queued: '→',
  done: '✓',
  failed: '✗',
  skipped: '–',
};

export function renderActionsText(
  actions: RepairAction[],
  verb: 'sync' | 'prune',
  confirmed: boolean,
): string {
  if (actions.length === 0)
    return verb === 'sync'
      ? 'Nothing to sync: every system holds what the database implies.'
      : 'Nothing to prune: no orphans.';
  const head =
    verb === 'prune' && !confirmed ? 'Would do (preview; nothing was changed):' : 'Actions:';
  return [
    head,
    ...actions.map(
      (a) =>
        `  ${MARK[a.outcome]} ${a.name}: ${a.action}${a.detail ? ` — ${a.detail}` : ''}${a.fix ? ` (next: ${spell(a.fix, 'cli')})` : ''}`,
    ),
  ].join('\n');
}

/** Markdown: summary, systems, differences with fixes, and the matrix (cut to `maxRows`). */
export function renderReportMarkdown(
  report: ConsistencyReport,
  options: { maxRows?: number; command?: 'kindler' | '/env' } = {},
): string {
  const maxRows = options.maxRows ?? 50;
  const fix = (f: NextCommand) => spell(f, options.command === '/env' ? 'comment' : 'cli');
  const out = [
    `**${report.summary}**`,
    '',
    `Checked ${report.checkedAt}.`,
    '',
    '| system | state | detail |',
    '|---|---|---|',
    ...report.systems.map((s) => `| ${s.system} | ${STATE[s.state]} | ${cell(s.detail)} |`),
  ];
  if (report.discrepancies.length) {
    out.push(
      '',
      '### Differences',
      '',
      '| environment | system | class | detail | fix |',
      '|---|---|---|---|---|',
    );
    const shown = report.discrepancies.slice(0, maxRows);
    out.push(
      ...shown.map(
        (d) =>
          `| \`${d.name}\` | ${d.system} | ${d.kind} | ${cell(d.detail)} | \`${fix(d.fix).replace(/\|/g, '\\|')}\` |`,
      ),
    );
    if (report.discrepancies.length > shown.length)
      out.push(
        '',
        `…and ${report.discrepancies.length - shown.length} more (${options.command === '/env' ? 'the `kindler/consistency` check run and the dashboard list' : '`kindler check` lists'} them all).`,
      );
  }
  if (report.matrix.length) {
    out.push(
      '',
      '### Matrix',
      '',
      `| environment | provider | ${COLUMNS.join(' | ')} |`,
      `|---|---|${COLUMNS.map(() => '---').join('|')}|`,
    );
    const rows = report.matrix.slice(0, maxRows);
    out.push(
      ...rows.map(
        (r) =>
          `| \`${r.name}\`${r.inDatabase ? '' : ' (no row)'} | ${r.provider ?? '–'} | ${COLUMNS.map((c) => CELL_SYMBOL[r.cells[c]]).join(' | ')} |`,
      ),
    );
    if (report.matrix.length > rows.length)
      out.push('', `…and ${report.matrix.length - rows.length} more environments.`);
  }
  if (report.busy.length)
    out.push(
      '',
      `Busy (not compared): ${report.busy.map((b) => `\`${b.name}\` (${b.operation})`).join(', ')}`,
    );
  return out.join('\n');
}

export function renderActionsMarkdown(
  actions: RepairAction[],
  verb: 'sync' | 'prune',
  confirmed: boolean,
  options: { maxRows?: number } = {},
): string {
  if (actions.length === 0) return renderActionsText(actions, verb, confirmed);
  const maxRows = options.maxRows ?? 30;
  const counts = (['queued', 'done', 'failed', 'skipped', 'planned'] as const)
    .map((o) => [o, actions.filter((a) => a.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  const head =
    verb === 'prune' && !confirmed
      ? `**Preview — nothing was changed.** Prune would take ${actions.length} action${actions.length === 1 ? '' : 's'}:`
      : `**${verb === 'sync' ? 'Sync' : 'Prune'}:** ${counts}.`;
  const shown = actions.slice(0, maxRows);
  return [
    head,
    '',
    ...shown.map(
      (a) =>
        `- ${MARK[a.outcome]} \`${a.name}\`: ${cell(a.action)}${a.detail ? ` — ${cell(a.detail)}` : ''}${a.fix ? ` (next: \`${spell(a.fix, 'comment')}\`)` : ''}`,
    ),
    ...(actions.length > shown.length
      ? [
          '',
          `…and ${actions.length - shown.length} more: the \`kindler/consistency\` check run and the dashboard list them all.`,
        ]
      : []),
  ].join('\n');
}

const cell = (s: string) => inlineText(s, 500);
