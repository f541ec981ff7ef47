// The consistency report and a repair's actions in GitHub's Markdown: a comment, the
// `kindler/consistency` check run, the drift issue. Same content as the terminal's
// (cli/consistency-text.ts), with the matrix.
import type { ConsistencyReport } from '../consistency/compare.js';
import { COLUMNS } from '../consistency/compare.js';
import type { RepairAction } from '../consistency/repair.js';
import {
  CELL_SYMBOL,
  NOTHING_TO_REPAIR,
  OUTCOME_MARK,
  STATE_SYMBOL,
} from '../consistency/symbols.js';
import { spell, type NextCommand } from '../domain/index.js';
import { inlineText } from './markdown.js';

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
    ...report.systems.map((s) => `| ${s.system} | ${STATE_SYMBOL[s.state]} | ${cell(s.detail)} |`),
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
          `| \`${d.name}\` | ${d.system} | ${d.kind} | ` +
          `${cell(d.detail)} | \`${fix(d.fix).replace(/\|/g, '\\|')}\` |`,
      ),
    );
    if (report.discrepancies.length > shown.length)
      out.push(
        '',
        `…and ${report.discrepancies.length - shown.length} more ` +
          (options.command === '/env'
            ? '(the `kindler/consistency` check run and the dashboard list them all).'
            : '(`kindler check` lists them all).'),
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
          `| \`${r.name}\`${r.inDatabase ? '' : ' (no row)'} | ${r.provider ?? '–'} ` +
          `| ${COLUMNS.map((c) => CELL_SYMBOL[r.cells[c]]).join(' | ')} |`,
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
  if (actions.length === 0) return NOTHING_TO_REPAIR[verb];
  const maxRows = options.maxRows ?? 30;
  const counts = (['queued', 'done', 'failed', 'skipped', 'planned'] as const)
    .map((o) => [o, actions.filter((a) => a.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  const head =
    verb === 'prune' && !confirmed
      ? `**Preview — nothing was changed.** ` +
        `Prune would take ${actions.length} action${actions.length === 1 ? '' : 's'}:`
      : `**${verb === 'sync' ? 'Sync' : 'Prune'}:** ${counts}.`;
  const shown = actions.slice(0, maxRows);
  return [
    head,
    '',
    ...shown.map((a) => {
      const detail = a.detail ? ` — ${cell(a.detail)}` : '';
      const next = a.fix ? ` (next: \`${spell(a.fix, 'comment')}\`)` : '';
      return `- ${OUTCOME_MARK[a.outcome]} \`${a.name}\`: ${cell(a.action)}${detail}${next}`;
    }),
    ...(actions.length > shown.length
      ? [
          '',
          `…and ${actions.length - shown.length} more: the \`kindler/consistency\` check run ` +
            `and the dashboard list them all.`,
        ]
      : []),
  ].join('\n');
}

const cell = (s: string) => inlineText(s, 500);
