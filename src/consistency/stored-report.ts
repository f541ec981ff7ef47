// The latest consistency report as kept (state `consistency:latest`). Its matrix is kept a line per
// environment — "name provider status in-database" and its five cells, spaces between — a few
// tokens each for jsonb where the rows as objects were eleven: a check over 5,000 environments
// writes about 250 KB rather than 750, and PostgreSQL parses and compresses a third as much. A
// report kept before, its rows as objects, is read too; so is a fix kept spelled out, as before
// commands were values.
import { z } from 'zod';
import { PROVIDERS, asNextCommand, shell } from '../domain/index.js';
import { SYSTEMS } from '../lifecycle/step.js';
import { CELLS, COLUMNS, type Cell, type ConsistencyReport, type MatrixRow } from './compare.js';

const cell = z.enum(CELLS);
const MatrixObject = z.object({
  name: z.string(),
  provider: z.enum(PROVIDERS).nullable(),
  inDatabase: z.boolean(),
  status: z.string().nullable(),
  cells: z.object({ git: cell, cluster: cell, portainer: cell, argocd: cell, haproxy: cell }),
});

const NONE = '-';
const IN_DATABASE = 'db';

/** A matrix row as one line (names, statuses and cells hold no spaces). */
export const matrixLine = (row: MatrixRow): string =>
  [
    row.name,
    row.provider ?? NONE,
    row.status ?? NONE,
    row.inDatabase ? IN_DATABASE : NONE,
    ...COLUMNS.map((c) => row.cells[c]),
  ].join(' ');

const MatrixLine = z.string().transform((line, ctx): MatrixRow => {
  const [name, provider, status, inDatabase, ...cells] = line.split(' ');
  const known = (c: string): c is Cell => (CELLS as readonly string[]).includes(c);
  if (
    !name ||
    !status ||
    (provider !== NONE && !(PROVIDERS as readonly string[]).includes(provider!)) ||
    (inDatabase !== IN_DATABASE && inDatabase !== NONE) ||
    cells.length !== COLUMNS.length ||
    !cells.every(known)
  ) {
    ctx.addIssue({ code: 'custom', message: `not a matrix line: ${line.slice(0, 80)}` });
    return z.NEVER;
  }
  return {
    name,
    provider: provider === NONE ? null : (provider as MatrixRow['provider']),
    inDatabase: inDatabase === IN_DATABASE,
    status: status === NONE ? null : status,
    cells: Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i]])) as MatrixRow['cells'],
  };
});

export const StoredReport: z.ZodType<ConsistencyReport, unknown> = z.object({
  checkedAt: z.string(),
  consistent: z.boolean(),
  summary: z.string(),
  systems: z.array(
    z.object({
      system: z.enum(['database', ...SYSTEMS]),
      state: z.enum(['ok', 'skipped', 'unknown']),
      detail: z.string(),
      count: z.number().nullable(),
      site: z.string().optional(),
    }),
  ),
  discrepancies: z.array(
    z.object({
      kind: z.enum(['missing', 'orphan', 'mismatch']),
      system: z.enum(SYSTEMS),
      name: z.string(),
      detail: z.string(),
      fix: z.unknown().transform((fix) => asNextCommand(fix) ?? shell('')),
    }),
  ),
  matrix: z.union([z.array(MatrixLine), z.array(MatrixObject)]),
  busy: z.array(z.object({ name: z.string(), operation: z.string() })),
});

/** A report as it is kept. */
export const storedReport = (
  report: ConsistencyReport,
): Omit<ConsistencyReport, 'matrix'> & { matrix: string[] } => ({
  ...report,
  matrix: report.matrix.map(matrixLine),
});
