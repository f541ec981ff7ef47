// The consistency report (DESIGN.md §6), computed from what each system holds — pure: the lists
// come in, the report goes out. Every difference gets a class and the exact command that fixes it;
// a system that could not be read is `unknown` and the report is then never consistent. `devops`
// is never an environment. Environments with a queued or running operation are `busy`: their
// differences are the operation's work in progress, not drift.
import {
  afterShell,
  command,
  shell,
  type NextCommand,
  MANAGEMENT_CLUSTER,
  checkEnvName,
  isReservedBranch,
  type Environment,
  type Operation,
  type ProviderName,
} from '../domain/index.js';
import { portDrift } from '../providers/cluster-step.js';
import type { ClusterInfo } from '../providers/provider.js';
import type { Route } from '../render/haproxy.js';

export const SYSTEMS = ['git', 'k3d', 'kind', 'portainer', 'argocd', 'haproxy'] as const;
export type SystemName = (typeof SYSTEMS)[number];
/** The matrix columns: k3d and kind share one. */
export const COLUMNS = ['git', 'cluster', 'portainer', 'argocd', 'haproxy'] as const;
export type Column = (typeof COLUMNS)[number];
export type Cell =
  'ok' | 'missing' | 'orphan' | 'mismatch' | 'skipped' | 'unknown' | 'busy' | 'absent';

export type Observation<T> =
  { state: 'ok'; items: T[] } | { state: 'skipped' | 'unknown'; reason: string };

/** `type` is Portainer's environment type: only Edge ones (4, 7) can be ours. */
export interface PortainerItem {
  id: number;
  name: string;
  type: number | null;
}
const EDGE_TYPES = [4, 7];
export interface ArgoItem {
  name: string;
  secret: string;
  provider: string | null;
}
export interface BranchItem {
  name: string;
  tree: string | null;
}

export interface Inventory {
  git: Observation<BranchItem>;
  k3d: Observation<ClusterInfo>;
  kind: Observation<ClusterInfo>;
  portainer: Observation<PortainerItem>;
  argocd: Observation<ArgoItem>;
  haproxy: Observation<Route>;
}

/** What the database implies for one environment, computed by the caller. */
export interface Expected {
  env: Environment;
  /** The deploy/ tree id the templates render now; null when rendering failed (reason in renderError). */
  tree: string | null;
  renderError?: string;
  /** The HAProxy backend target the row implies. */
  route: string;
  /** The queued or running operation, if any. */
  busy: Operation | null;
}

export interface Discrepancy {
  kind: 'missing' | 'orphan' | 'mismatch';
  system: SystemName;
  name: string;
  detail: string;
  fix: NextCommand;
}

export interface SystemReport {
  system: 'database' | SystemName;
  state: 'ok' | 'skipped' | 'unknown';
  detail: string;
  count: number | null;
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
const other = (p: ProviderName): ProviderName => (p === 'k3d' ? 'kind' : 'k3d');

/** Names that can be ours: valid environment names, never devops (checkEnvName refuses reserved names). */
const candidate = (name: string): boolean => checkEnvName(name).ok;

export function compare(
  expected: Expected[],
  inv: Inventory,
  options: { defaultBranch: string; checkedAt?: Date },
): ConsistencyReport {
  const discrepancies: Discrepancy[] = [];
  const rows = new Map<string, MatrixRow>();
  const rowFor = (name: string, env: Environment | null): MatrixRow => {
    let row = rows.get(name);
    if (!row) {
      const cells = Object.fromEntries(COLUMNS.map((c) => [c, 'absent'])) as Record<Column, Cell>;
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
    const cell = rowFor(d.name, null).cells;
    cell[columnOf(d.system)] = d.kind;
  };

  const envs = expected.filter((e) => e.env.name !== MANAGEMENT_CLUSTER);
  const inDb = new Set(envs.map((e) => e.env.name as string));
  const busy = envs
    .filter((e) => e.busy)
    .map((e) => ({
      name: e.env.name as string,
      operation: `${e.busy?.kind} #${e.busy?.id} ${e.busy?.status}`,
    }));

  const gitItems = inv.git.state === 'ok' ? new Map(inv.git.items.map((b) => [b.name, b])) : null;
  const clusters = { k3d: listed(inv.k3d), kind: listed(inv.kind) };
  const endpoints = inv.portainer.state === 'ok' ? inv.portainer.items : null;
  const secrets =
    inv.argocd.state === 'ok' ? new Map(inv.argocd.items.map((s) => [s.name, s])) : null;
  const routes =
    inv.haproxy.state === 'ok' ? new Map(inv.haproxy.items.map((r) => [r.name, r])) : null;

  for (const e of envs) {
    const { env } = e;
    const row = rowFor(env.name, env);
    if (e.busy) {
      for (const c of COLUMNS) row.cells[c] = 'busy';
      continue;
    }
    // A row whose last operation failed is finished by retrying it, not by sync.
    const repair = command(env.status === 'failed' ? 'retry' : 'sync', env.name);
    const deleting = env.status === 'deleting' || env.status === 'delete_failed';
    const fixMissing = deleting ? command('delete', env.name) : repair;
    const missing = (system: Discrepancy['system'], detail: string) =>
      add({ kind: 'missing', system, name: env.name, detail, fix: fixMissing });

    // Git: the branch, and what it holds versus what the templates render now.
    if (!gitItems) row.cells.git = inv.git.state === 'ok' ? 'ok' : inv.git.state;
    else {
      const branch = gitItems.get(env.name);
      if (!branch) missing('git', `no branch "${env.name}"`);
      else if (e.tree === null)
        add({
          kind: 'mismatch',
          system: 'git',
          name: env.name,
          detail: `the templates could not be rendered: ${e.renderError ?? 'unknown error'}`,
          fix: shell('check KINDLER_TEMPLATES_DIR'),
        });
      else if (branch.tree !== e.tree) {
        add({
          kind: 'mismatch',
          system: 'git',
          name: env.name,
          detail: branch.tree
            ? 'deploy/ differs from what the templates render now'
            : 'the branch has no deploy/ folder',
          fix: repair,
        });
      } else row.cells.git = 'ok';
    }

    // Cluster: in the row's provider, running, with the row's ports.
    const own = clusters[env.provider];
    const elsewhere = clusters[other(env.provider)];
    if (!own)
      row.cells.cluster =
        inv[env.provider].state === 'ok'
          ? 'ok'
          : (inv[env.provider] as { state: 'skipped' | 'unknown' }).state;
    else {
      const info = own.get(env.name);
      if (!info) {
        if (elsewhere?.has(env.name)) {
          add({
            kind: 'mismatch',
            system: env.provider,
            name: env.name,
            detail: `the database says ${env.provider}, the cluster runs in ${other(env.provider)}`,
            fix: afterShell(deleteClusterCommand(other(env.provider), env.name), repair),
          });
        } else missing(env.provider, `no ${env.provider} cluster "${env.name}"`);
      } else {
        const ports = portDrift(env, info);
        if (ports)
          add({
            kind: 'mismatch',
            system: env.provider,
            name: env.name,
            detail: ports,
            fix: afterShell(deleteClusterCommand(env.provider, env.name), repair),
          });
        else if (!info.running)
          add({
            kind: 'mismatch',
            system: env.provider,
            name: env.name,
            detail: 'the cluster is stopped',
            fix: shell(startClusterCommand(env.provider, env.name)),
          });
        else row.cells.cluster = 'ok';
      }
    }

    // Portainer: an environment of that name (or upstream's legacy name without hyphens).
    if (!env.registerPortainer) row.cells.portainer = 'skipped';
    else if (!endpoints)
      row.cells.portainer = (inv.portainer as { state: 'skipped' | 'unknown' }).state;
    else if (endpoints.some((p) => p.name === env.name || p.name === env.name.replace(/-/g, '')))
      row.cells.portainer = 'ok';
    else missing('portainer', `no Portainer environment "${env.name}"`);

    // Argo CD: the cluster secret, labelled with the row's provider.
    if (!secrets) row.cells.argocd = (inv.argocd as { state: 'skipped' | 'unknown' }).state;
    else {
      const secret = secrets.get(env.name);
      if (!secret) missing('argocd', `no cluster secret cluster-${env.name}`);
      else if (secret.provider && secret.provider !== env.provider) {
        add({
          kind: 'mismatch',
          system: 'argocd',
          name: env.name,
          detail: `secret ${secret.secret} says ${secret.provider}, the database says ${env.provider}`,
          fix: repair,
        });
      } else row.cells.argocd = 'ok';
    }

    // HAProxy: the route, to the backend the row implies.
    if (!env.haproxyRoute) row.cells.haproxy = 'skipped';
    else if (!routes) row.cells.haproxy = (inv.haproxy as { state: 'skipped' | 'unknown' }).state;
    else {
      const route = routes.get(env.name);
      if (!route) missing('haproxy', `no route for "${env.name}"`);
      else if (route.server !== e.route)
        add({
          kind: 'mismatch',
          system: 'haproxy',
          name: env.name,
          detail: `${route.backend} goes to ${route.server ?? 'nothing'}, the database says ${e.route}`,
          fix: repair,
        });
      else row.cells.haproxy = 'ok';
    }
  }

  // Orphans: ours by name, not in the database.
  const prune = (name: string) => command('prune', '--confirm', name);
  const orphan = (system: SystemName, name: string, detail: string) => {
    rowFor(name, null);
    add({ kind: 'orphan', system, name, detail, fix: prune(name) });
  };
  if (gitItems) {
    for (const b of gitItems.values()) {
      if (
        isReservedBranch(b.name) ||
        b.name === options.defaultBranch ||
        !candidate(b.name) ||
        inDb.has(b.name)
      )
        continue;
      orphan('git', b.name, `branch "${b.name}" has no database row`);
    }
  }
  for (const p of ['k3d', 'kind'] as const) {
    for (const c of clusters[p]?.values() ?? []) {
      if (!candidate(c.name) || inDb.has(c.name)) continue;
      orphan(p, c.name, `${p} cluster "${c.name}" has no database row`);
    }
  }
  for (const p of endpoints ?? []) {
    const known = [...inDb].some((n) => n === p.name || n.replace(/-/g, '') === p.name);
    if (!candidate(p.name) || known || !EDGE_TYPES.includes(p.type ?? 0)) continue;
    orphan('portainer', p.name, `Portainer environment "${p.name}" (#${p.id}) has no database row`);
  }
  for (const s of secrets?.values() ?? []) {
    if (!candidate(s.name) || inDb.has(s.name)) continue;
    orphan('argocd', s.name, `Argo CD secret ${s.secret} has no database row`);
  }
  for (const r of routes?.values() ?? []) {
    if (!candidate(r.name) || inDb.has(r.name)) continue;
    orphan('haproxy', r.name, `route ${r.backend} has no database row`);
  }

  const systems: SystemReport[] = [
    {
      system: 'database',
      state: 'ok',
      detail: `${envs.length} environment${envs.length === 1 ? '' : 's'}`,
      count: envs.length,
    },
    ...SYSTEMS.map((system): SystemReport => {
      const o = inv[system];
      return o.state === 'ok'
        ? { system, state: 'ok', detail: `${o.items.length} listed`, count: o.items.length }
        : { system, state: o.state, detail: o.reason, count: null };
    }),
  ];
  // Cells left `absent` are columns with nothing on either side (an orphan row's other systems).
  for (const row of rows.values())
    for (const c of COLUMNS) if (row.cells[c] === 'absent' && row.inDatabase) row.cells[c] = 'ok';
  const unknown = systems.filter((s) => s.state === 'unknown');
  const consistent = discrepancies.length === 0 && unknown.length === 0;
  discrepancies.sort(
    (a, b) => a.name.localeCompare(b.name) || SYSTEMS.indexOf(a.system) - SYSTEMS.indexOf(b.system),
  );
  const counts = (['missing', 'orphan', 'mismatch'] as const)
    .map((k) => [k, discrepancies.filter((d) => d.kind === k).length] as const)
    .filter(([, n]) => n > 0);
  const summary = [
    discrepancies.length === 0
      ? 'no differences'
      : `${discrepancies.length} difference${discrepancies.length === 1 ? '' : 's'} (${counts.map(([k, n]) => `${n} ${k}`).join(', ')})`,
    unknown.length ? `${unknown.map((s) => s.system).join(', ')} could not be read` : null,
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
    matrix: [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)),
    busy,
  };
}

function listed(o: Observation<ClusterInfo>): Map<string, ClusterInfo> | null {
  return o.state === 'ok' ? new Map(o.items.map((c) => [c.name, c])) : null;
}

export const deleteClusterCommand = (p: ProviderName, name: string): string =>
  p === 'k3d' ? `k3d cluster delete ${name}` : `kind delete cluster --name ${name}`;
const startClusterCommand = (p: ProviderName, name: string): string =>
  p === 'k3d' ? `k3d cluster start ${name}` : `docker start ${name}-control-plane`;
