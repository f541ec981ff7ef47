// How the consistency report's cells, systems and repair outcomes read, on every surface (the
// terminal, GitHub's Markdown, the console).
import type { Cell } from './compare.js';
import type { RepairAction } from './repair.js';

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
/** A system's state in the report's systems table. */
export const STATE_SYMBOL: Record<'ok' | 'skipped' | 'unknown', string> = {
  ok: '✓',
  skipped: '– skipped',
  unknown: '? unknown',
};

/** A repair action's outcome. */
export const OUTCOME_MARK: Record<RepairAction['outcome'], string> = {
  planned: '•',
  queued: '→',
  done: '✓',
  failed: '✗',
  skipped: '–',
};

/** What a repair with nothing to do says. */
export const NOTHING_TO_REPAIR: Record<'sync' | 'prune', string> = {
  sync: 'Nothing to sync: every system holds what the database implies.',
  prune: 'Nothing to prune: no orphans.',
};
