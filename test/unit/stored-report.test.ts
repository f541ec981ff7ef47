// The latest report as kept: read back as it was made, whether kept as lines (now) or as objects
// (before); a line that is not one makes the kept report unreadable, never a wrong matrix.
import { describe, expect, it } from 'vitest';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { StoredReport, storedReport } from '../../src/consistency/stored-report.js';
import { command } from '../../src/domain/index.js';

const report: ConsistencyReport = {
  checkedAt: '2026-12-03T10:00:00.000Z',
  consistent: false,
  summary: 'Inconsistent: 2 differences (1 missing, 1 orphan)',
  systems: [
    { system: 'database', state: 'ok', detail: '2 environments', count: 2 },
    { system: 'k3d', state: 'ok', detail: 'site edge: 1 listed', count: 1, site: 'edge' },
    { system: 'portainer', state: 'unknown', detail: 'no answer within 30 s', count: null },
  ],
  discrepancies: [
    {
      kind: 'missing',
      system: 'haproxy',
      name: 'dev',
      detail: 'no route',
      fix: command('sync', 'dev'),
    },
    {
      kind: 'orphan',
      system: 'k3d',
      name: 'old-1',
      detail: 'cluster has no database row',
      fix: command('prune', 'old-1'),
    },
  ],
  matrix: [
    {
      name: 'dev',
      provider: 'k3d',
      inDatabase: true,
      status: 'ready',
      cells: {
        git: 'ok',
        cluster: 'ok',
        portainer: 'unknown',
        argocd: 'skipped',
        haproxy: 'missing',
      },
    },
    {
      name: 'old-1',
      provider: null,
      inDatabase: false,
      status: null,
      cells: {
        git: 'absent',
        cluster: 'orphan',
        portainer: 'absent',
        argocd: 'absent',
        haproxy: 'absent',
      },
    },
    {
      name: 'web',
      provider: 'kind',
      inDatabase: true,
      status: 'failed',
      cells: { git: 'busy', cluster: 'busy', portainer: 'busy', argocd: 'busy', haproxy: 'busy' },
    },
  ],
  busy: [{ name: 'web', operation: 'create #4 running' }],
};
const kept = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('the kept consistency report', () => {
  it('keeps the matrix a line per environment and reads back the report it was made from', () => {
    const stored = kept(storedReport(report)) as { matrix: unknown };
    expect(stored.matrix).toEqual([
      'dev k3d ready db ok ok unknown skipped missing',
      'old-1 - - - absent orphan absent absent absent',
      'web kind failed db busy busy busy busy busy',
    ]);
    expect(StoredReport.parse(stored)).toEqual(report);
  });

  it('reads a report kept before, its matrix rows as objects', () => {
    expect(StoredReport.parse(kept(report))).toEqual(report);
  });

  it('refuses a line that is not a matrix row', () => {
    for (const line of [
      'dev k3d ready db ok ok ok ok',
      'dev docker ready db ok ok ok ok ok',
      'dev k3d ready yes ok ok ok ok ok',
      'dev k3d ready db ok ok ok ok fine',
      '',
    ]) {
      const stored = { ...(kept(storedReport(report)) as object), matrix: [line] };
      expect(StoredReport.safeParse(stored).success, line).toBe(false);
    }
  });
});
