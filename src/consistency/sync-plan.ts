// What a sync would do, read from a consistency report: for each environment whose systems lack
// what its row implies, the system steps to ensure again; a cluster that exists with other settings
// is kept as it is (sync deletes nothing), and said so.
import { SYNC_STEPS } from '../domain/index.js';
import type { SystemStep } from '../lifecycle/step.js';
import {
  COLUMNS,
  COLUMN_OF,
  type Column,
  type ConsistencyReport,
  type Discrepancy,
} from './compare.js';

const STEP_OF = Object.fromEntries(
  Object.entries(COLUMN_OF).map(([step, column]) => [column, step]),
) as Record<Column, SystemStep>;

/** What a sync of one environment would ensure, and what it keeps as it is (with why). */
export interface SyncEntry {
  name: string;
  /** The system steps to ensure again, in order; none when only `kept` is to say. */
  steps: SystemStep[];
  /** A cluster that exists with other settings: not recreated (sync deletes nothing). */
  kept?: Discrepancy;
}

/**
 * From a report, what a sync would do for each environment in the database (or those in
 * `wanted`) whose systems lack what its row implies: the columns found missing or mismatched (a
 * recreated cluster brings its Portainer agent and Argo CD token with it).
 */
export function planSyncs(report: ConsistencyReport, wanted: ReadonlySet<string>): SyncEntry[] {
  const entries: SyncEntry[] = [];
  for (const row of report.matrix) {
    if (!row.inDatabase || (wanted.size && !wanted.has(row.name))) continue;
    const todo = COLUMNS.filter((c) => row.cells[c] === 'missing' || row.cells[c] === 'mismatch');
    if (todo.length === 0) continue;
    const clusterDrift = report.discrepancies.find(
      (d) =>
        d.name === row.name && (d.system === 'k3d' || d.system === 'kind') && d.kind === 'mismatch',
    );
    const steps = new Set(
      todo.filter((c) => !(c === 'cluster' && clusterDrift)).map((c) => STEP_OF[c]),
    );
    if (steps.has('cluster')) for (const s of ['portainer', 'argocd'] as const) steps.add(s);
    entries.push({
      name: row.name,
      steps: SYNC_STEPS.filter((s): s is SystemStep => steps.has(s as SystemStep)),
      ...(clusterDrift ? { kept: clusterDrift } : {}),
    });
  }
  return entries;
}
