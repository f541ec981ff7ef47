// Environment rows and the allocator. Ports and subnets are chosen by the database inside the
// insert transaction, serialised by an advisory lock, lowest free value first; the unique
// indexes are the backstop. Nothing here ever trusts a port from a caller except an import.
import {
  Failure,
  MANAGEMENT_CLUSTER,
  alreadyExists,
  type EnvName,
  type Environment,
  type NewEnvironment,
  notFound,
} from '../domain/index.js';
import { pgCode, pgConstraint, type Db, type Queryable } from './db.js';
import { toEnvironment, type ClusterRow } from './rows.js';
import type {
  EnvironmentPage,
  EnvironmentPatch,
  EnvironmentRecord,
  ImportReport,
} from './store.js';

export interface Range {
  from: number;
  to: number;
}

export interface AllocationRanges {
  http: Range;
  https: Range;
  pf: Range;
  k3dNodePort: number;
  kindNodePorts: Range;
  /** k3d subnets are 10.<n>.0.0/16 for n in this range. */
  subnetOctets: Range;
}

export const DEFAULT_RANGES: AllocationRanges = {
  http: { from: 18090, to: 18999 },
  https: { from: 18443, to: 18999 },
  pf: { from: 19000, to: 19999 },
  k3dNodePort: 30080,
  kindNodePorts: { from: 30081, to: 32767 },
  subnetOctets: { from: 101, to: 254 },
};

export const ALLOCATION_LOCK = 7_100_402;
const COLUMNS =
  'name, provider, subnet::text as subnet, node_port, pf_port, http_port, https_port, ' +
  'server_ip, created_at, updated_at, status, register_portainer, haproxy_route, requested_by, ' +
  'source_url, expires_at, pinned, labels, source_repo, source_sha, source_actor, deployed_sha, ' +
  'deployed_tree, deployed_at';
export const SELECT_CLUSTERS = `select ${COLUMNS} from clusters`;

function exhausted(range: Range, variable: string): Failure {
  return new Failure(
    'invalid_input',
    `no free value left in ${range.from}-${range.to}. To resolve, ` +
      `widen ${variable} or delete environments you no longer need`,
  );
}

export async function insertEnvironment(
  tx: Queryable,
  input: NewEnvironment,
  ranges: AllocationRanges,
): Promise<Environment> {
  await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
  const existing = await tx.query<ClusterRow>(`${SELECT_CLUSTERS} where name = $1`, [input.name]);
  if (existing[0]) throw alreadyExists(toEnvironment(existing[0]));
  const http = await lowestFreePort(tx, ranges.http, 'KINDLER_HTTP_PORTS', []);
  // Reserve each port before choosing the next, so ranges that overlap never hand out one twice.
  const https = await lowestFreePort(tx, ranges.https, 'KINDLER_HTTPS_PORTS', [http]);
  const pf = await lowestFreePort(tx, ranges.pf, 'KINDLER_PF_PORTS', [http, https]);
  let nodePort = ranges.k3dNodePort;
  let subnet: string | null = null;
  if (input.provider === 'kind') {
    const rows = await tx.query<{ p: number }>(
      `select p from generate_series($1::int, $2::int) p
       where not exists (select 1 from clusters where provider = 'kind' and node_port = p)
      order by p limit 1`,
      [ranges.kindNodePorts.from, ranges.kindNodePorts.to],
    );
    if (!rows[0]) throw exhausted(ranges.kindNodePorts, 'KINDLER_KIND_NODE_PORTS');
    nodePort = rows[0].p;
  } else {
    const rows = await tx.query<{ n: number }>(
      `select n from generate_series($1::int, $2::int) n
       where not exists (select 1 from clusters where subnet = ('10.' || n ||
      '.0.0/16')::cidr) order by n limit 1`,
      [ranges.subnetOctets.from, ranges.subnetOctets.to],
    );
    if (!rows[0]) throw exhausted(ranges.subnetOctets, 'KINDLER_SUBNET_OCTETS');
    subnet = `10.${rows[0].n}.0.0/16`;
  }
  const rows = await tx.query<ClusterRow>(
    `insert into clusters (name, provider, subnet, node_port, pf_port, http_port, https_port,
      status,
       register_portainer, haproxy_route, requested_by, source_url, expires_at, pinned, labels,
       source_repo, source_sha, source_actor, created_at, updated_at)
     values ($1, $2, $3::cidr, $4, $5, $6, $7, 'creating', $8, $9, $10, $11, $12, $13, $14::jsonb,
       $15, $16, $17, timezone('utc', now()), timezone('utc', now()))
     returning ${COLUMNS}`,
    [
      input.name,
      input.provider,
      subnet,
      nodePort,
      pf,
      http,
      https,
      input.registerPortainer ?? true,
      input.haproxyRoute ?? true,
      input.requestedBy ?? null,
      input.sourceUrl ?? null,
      input.expiresAt ?? null,
      input.pinned ?? false,
      JSON.stringify(input.labels ?? {}),
      input.source?.repo ?? null,
      input.source?.sha ?? null,
      input.source?.by ?? null,
    ],
  );
  return toEnvironment(rows[0] as ClusterRow);
}

/** A host port is free when no row uses it in any of its port columns (nor this insert). */
async function lowestFreePort(
  tx: Queryable,
  range: Range,
  variable: string,
  taken: number[],
): Promise<number> {
  const rows = await tx.query<{ p: number }>(
    `select p from generate_series($1::int, $2::int) p
     where p <> all($3::int[])
       and not exists (select 1 from clusters where http_port = p or https_port = p or pf_port = p)
     order by p limit 1`,
    [range.from, range.to, taken],
  );
  if (!rows[0]) throw exhausted(range, variable);
  return rows[0].p;
}

export async function updateEnvironment(
  q: Queryable,
  name: EnvName,
  patch: EnvironmentPatch,
): Promise<Environment> {
  const sets: string[] = [];
  const params: unknown[] = [name];
  const set = (column: string, value: unknown, cast = '') => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (patch.status !== undefined) set('status', patch.status);
  if (patch.serverIp !== undefined) set('server_ip', patch.serverIp);
  if (patch.expiresAt !== undefined) set('expires_at', patch.expiresAt);
  if (patch.pinned !== undefined) set('pinned', patch.pinned);
  if (patch.labels !== undefined) set('labels', JSON.stringify(patch.labels), '::jsonb');
  if (patch.source !== undefined) {
    set('source_repo', patch.source?.repo ?? null);
    set('source_sha', patch.source?.sha ?? null);
    set('source_actor', patch.source?.by ?? null);
  }
  if (patch.deployed !== undefined) {
    set('deployed_sha', patch.deployed?.sha ?? null);
    set('deployed_tree', patch.deployed?.tree ?? null);
    set('deployed_at', patch.deployed?.at ?? null);
  }
  const rows = await q.query<ClusterRow>(
    `update clusters set ${[...sets, "updated_at = timezone('utc', now())"].join(', ')} ` +
      `where name = $1 returning ${COLUMNS}`,
    params,
  );
  if (!rows[0]) throw notFound(name);
  return toEnvironment(rows[0]);
}

/** Inserts one adopted row with its own ports; returns a reason when it is refused. */
export async function importRecord(q: Queryable, r: EnvironmentRecord): Promise<string | null> {
  const existing = await q.query<{ name: string }>('select name from clusters where name = $1', [
    r.name,
  ]);
  if (existing[0]) return 'already present (kept as it is)';
  // A unique conflict (a port or subnet taken) aborts the transaction: the caller maps it.
  await q.query(
    `insert into clusters (name, provider, subnet, node_port, pf_port, http_port, https_port,
      status,
         register_portainer, haproxy_route, created_at, updated_at)
       values ($1, $2, $3::cidr, $4, $5, $6, $7, 'ready', $8, $9, timezone('utc', now()),
      timezone('utc', now()))`,
    [
      r.name,
      r.provider,
      r.subnet,
      r.nodePort,
      r.pfPort,
      r.httpPort,
      r.httpsPort,
      r.registerPortainer,
      r.haproxyRoute,
    ],
  );
  return null;
}

/** Why a record could not be imported, when the database refused it as a duplicate. */
export function importConflict(error: unknown): string | null {
  return pgCode(error) === '23505'
    ? `conflicts with an existing row (${pgConstraint(error) ?? 'unique value'})`
    : null;
}

export const isManagement = (name: string): boolean => name === MANAGEMENT_CLUSTER;

export async function pageEnvironments(
  db: Queryable,
  page: EnvironmentPage,
): Promise<{ environments: Environment[]; next: string | null }> {
  // `q` holds DNS-label characters only (checked by the caller): no LIKE wildcard in it.
  const rows = await db.query<ClusterRow>(
    `${SELECT_CLUSTERS} where name <> 'devops' and ($1::text is null or name > $1)
       and ($3::text is null or name like '%' || $3 || '%')
       and ($4::text is null or status = $4)
       and ($5::text[] is null or name = any($5))
     order by name limit $2`,
    [page.after, page.limit + 1, page.q ?? null, page.status ?? null, page.names ?? null],
  );
  const environments = rows.slice(0, page.limit).map(toEnvironment);
  return {
    environments,
    next: rows.length > page.limit ? (environments.at(-1)?.name ?? null) : null,
  };
}

export async function listEnvironments(db: Queryable): Promise<Environment[]> {
  const rows = await db.query<ClusterRow>(
    `${SELECT_CLUSTERS} where name <> 'devops' order by created_at, seq`,
  );
  return rows.map(toEnvironment);
}

export async function listAllRows(db: Queryable): Promise<Environment[]> {
  const rows = await db.query<ClusterRow>(
    `${SELECT_CLUSTERS} order by (name = 'devops') desc, created_at, seq`,
  );
  return rows.map(toEnvironment);
}

export async function deleteEnvironment(db: Queryable, name: EnvName): Promise<boolean> {
  return (
    (await db.query('delete from clusters where name = $1 returning name', [name])).length === 1
  );
}

/**
 * Imports rows one by one, each under the allocation lock; a conflict skips that row, saying why.
 */
export async function importRecords(db: Db, records: EnvironmentRecord[]): Promise<ImportReport> {
  const report: ImportReport = { imported: [], skipped: [] };
  for (const record of records) {
    const reason = await db
      .transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
        return importRecord(tx, record);
      })
      .catch((error: unknown) => {
        const conflict = importConflict(error);
        if (conflict) return conflict;
        throw error;
      });
    if (reason) report.skipped.push({ name: record.name, reason });
    else report.imported.push(record.name);
  }
  return report;
}

export async function getEnvironment(db: Queryable, name: string): Promise<Environment | null> {
  const rows = await db.query<ClusterRow>(`${SELECT_CLUSTERS} where name = $1`, [name]);
  return rows[0] ? toEnvironment(rows[0]) : null;
}
