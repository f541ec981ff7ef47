// The consistency report (docs/design.md §6), computed from what each system holds — pure: the
// lists
// come in, the report goes out. Every difference gets a class and the exact command that fixes it;
// a system that could not be read is `unknown` and the report is then never consistent. `devops`
// is never an environment. Environments with a queued or running operation are `busy`: their
// differences are the operation's work in progress, not drift.
import {
  byText,
  command,
  MANAGEMENT_CLUSTER,
  checkEnvName,
  type Environment,
  type Operation,
  type ProviderName,
} from '../domain/index.js';
import {
  SYSTEMS,
  type Finding,
  type SystemName,
  type SystemStep,
  type SystemView,
} from '../lifecycle/step.js';

export { SYSTEMS, type SystemName };
/** The matrix columns, one per step: k3d and kind share one. */
export const COLUMN_OF = {
  branch: 'git',
  cluster: 'cluster',
  portainer: 'portainer',
  argocd: 'argocd',
  haproxy: 'haproxy',
} as const satisfies Record<SystemStep, string>;
export type Column = (typeof COLUMN_OF)[SystemStep];
export const COLUMNS: Column[] = Object.values(COLUMN_OF);
export const CELLS = [
  'ok',
  'missing',
  'orphan',
  'mismatch',
  'skipped',
  'unknown',
  'busy',
  'absent',
] as const;
export type Cell = (typeof CELLS)[number];

/** Each step's listing of its system, read once per check. */
export type Views = Record<SystemStep, SystemView>;

/** What the database implies for one environment, computed by the caller. */
export interface Expected {
  env: Environment;
  /**
   * The deploy/ tree id the templates render now; null when rendering failed (reason in
   * renderError).
   */
  tree: string | null;
  renderError?: string;
  /** The HAProxy backend target the row implies. */
  route: string;
  /** The queued or running operation, if any. */
  busy: Operation | null;
}

export interface Discrepancy extends Omit<Finding, 'kind'> {
  kind: Finding['kind'] | 'orphan';
  name: string;
}

export interface SystemReport {
  system: 'database' | SystemName;
  state: 'ok' | 'skipped' | 'unknown';
  detail: string;
  count: number | null;
  /** The site it was read on, when sites are declared. */
  site?: string | undefined;
}
export interface MatrixRow {
  name: string;
  provider: ProviderName | null;
  inDatabase: boolean;
  status: string | null;
  cells: Record<Column, Cell>;
}

export interface ConsistencyReport {
  checkedAt: string;
  /** True only when every system was read (or deliberately skipped) and nothing differs. */
  consistent: boolean;
  summary: string;
  systems: SystemReport[];
  discrepancies: Discrepancy[];
  matrix: MatrixRow[];
  busy: { name: string; operation: string }[];
}

const columnOf = (system: SystemName): Column =>
  system === 'k3d' || system === 'kind' ? 'cluster' : system;
const STEPS = Object.keys(COLUMN_OF) as SystemStep[];

/**
 * Names that can be ours: valid environment names, never devops (checkEnvName refuses reserved
 * names).
 */
const candidate = (name: string): boolean => checkEnvName(name).ok;

export function compare(
  expected: Expected[],
  views: Views,
  options: { checkedAt?: Date } = {},
): ConsistencyReport {
  const discrepancies: Discrepancy[] = [];
  const rows = new Map<string, MatrixRow>();
  const rowFor = (name: string, env: Environment | null): MatrixRow => {
    let row = rows.get(name);
    if (!row) {
      const cells: Record<Column, Cell> = {
        git: 'absent',
        cluster: 'absent',
        portainer: 'absent',
        argocd: 'absent',
        haproxy: 'absent',
      };
      row = {
        name,
        provider: env?.provider ?? null,
        inDatabase: env !== null,
        status: env?.status ?? null,
        cells,
      };
      rows.set(name, row);
    }
    return row;
  };
  const add = (d: Discrepancy) => {
    discrepancies.push(d);
    rowFor(d.name, null).cells[columnOf(d.system)] = d.kind;
  };

  const envs = expected.filter((e) => e.env.name !== MANAGEMENT_CLUSTER);
  const inDb = new Set(envs.map((e) => e.env.name as string));
  const busy = envs.flatMap(({ env, busy: op }) =>
    op ? [{ name: env.name as string, operation: `${op.kind} #${op.id} ${op.status}` }] : [],
  );

  for (const { env, busy: op, ...rest } of envs) {
    const row = rowFor(env.name, env);
    if (op) {
      for (const c of COLUMNS) row.cells[c] = 'busy';
      continue;
    }
    // A row whose last operation failed is finished by retrying it, not by sync.
    const repair = command(env.status === 'failed' ? 'retry' : 'sync', env.name);
    const deleting = env.status === 'deleting' || env.status === 'delete_failed';
    const want = {
      env,
      ...rest,
      repair,
      recreate: deleting ? command('delete', env.name) : repair,
    };
    for (const step of STEPS) {
      const verdict = views[step].assess(want);
      if (typeof verdict === 'string') row.cells[COLUMN_OF[step]] = verdict;
      else if (verdict.length === 0) row.cells[COLUMN_OF[step]] = 'ok';
      else for (const finding of verdict) add({ ...finding, name: env.name });
    }
  }

  // Orphans: ours by name, claimed by no row.
  for (const view of Object.values(views)) {
    // Every name a row may hold things under here: its own and the system's aliases of it.
    const claimed = view.aliases
      ? new Set([...inDb].flatMap((r) => [r, ...view.aliases!(r)]))
      : inDb;
    for (const held of view.holdings()) {
      if (!candidate(held.name)) continue;
      if (claimed.has(held.name)) continue;
      rowFor(held.name, null);
      add({
        kind: 'orphan',
        system: held.system,
        name: held.name,
        detail: `${held.what} has no database row`,
        fix: command('prune', held.name),
      });
    }
  }

  const observed = STEPS.flatMap((step) => views[step].observations);
  const systems: SystemReport[] = [
    {
      system: 'database',
      state: 'ok',
      detail: `${envs.length} environment${envs.length === 1 ? '' : 's'}`,
      count: envs.length,
    },
    ...observed.map(({ system, observation: o, site }): SystemReport => {
      const where = site ? { site } : {};
      return o.state === 'ok'
        ? {
            system,
            state: 'ok',
            detail: `${site ? `site ${site}: ` : ''}${o.items.length} listed`,
            count: o.items.length,
            ...where,
          }
        : { system, state: o.state, detail: o.reason, count: null, ...where };
    }),
  ];
  // Cells left `absent` are columns with nothing on either side (an orphan row's other systems).
  for (const row of rows.values())
    for (const c of COLUMNS) if (row.cells[c] === 'absent' && row.inDatabase) row.cells[c] = 'ok';
  const unknown = systems.filter((s) => s.state === 'unknown');
  const consistent = discrepancies.length === 0 && unknown.length === 0;
  discrepancies.sort(
    (a, b) => byText(a.name, b.name) || SYSTEMS.indexOf(a.system) - SYSTEMS.indexOf(b.system),
  );
  const counts = (['missing', 'orphan', 'mismatch'] as const)
    .map((k) => [k, discrepancies.filter((d) => d.kind === k).length] as const)
    .filter(([, n]) => n > 0);
  const summary = [
    discrepancies.length === 0
      ? 'no differences'
      : `${discrepancies.length} difference${discrepancies.length === 1 ? '' : 's'} ` +
        `(${counts.map(([k, n]) => `${n} ${k}`).join(', ')})`,
    unknown.length
      ? `${unknown.map((s) => (s.site ? `${s.system} on site ${s.site}` : s.system)).join(', ')} ` +
        'could not be read'
      : null,
    busy.length ? `${busy.length} busy` : null,
  ]
    .filter(Boolean)
    .join('; ');
  return {
    checkedAt: (options.checkedAt ?? new Date()).toISOString(),
    consistent,
    summary: `${consistent ? 'Consistent' : 'Inconsistent'}: ${summary}`,
    systems,
    discrepancies,
    matrix: [...rows.values()].sort((a, b) => byText(a.name, b.name)),
    busy,
  };
}
