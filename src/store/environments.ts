// Environment rows and the allocator. Ports and subnets are chosen by the database inside the
// insert transaction, serialised by an advisory lock, lowest free value first; the unique
// indexes are the backstop. Nothing here ever trusts a port from a caller except an import.
import { MANAGEMENT_CLUSTER, type EnvName, type Environment, notFound } from '../domain/index.js';
import { pgCode, pgConstraint, type Db, type Queryable } from './db.js';
import { toEnvironment, type ClusterRow } from './rows.js';
import { ALLOCATION_LOCK } from './allocation.js';
import type {
  EnvironmentPage,
  EnvironmentPatch,
  EnvironmentRecord,
  ImportReport,
} from './environment-store.js';

export const COLUMNS =
  'name, provider, subnet::text as subnet, node_port, pf_port, http_port, https_port, ' +
  'server_ip, created_at, updated_at, status, register_portainer, haproxy_route, servers, ' +
  'agents, requested_by, ' +
  'source_url, expires_at, pinned, labels, source_repo, source_sha, source_actor, deployed_sha, ' +
  'deployed_tree, deployed_at, site, node_cpus::float8 as node_cpus, node_memory_mib';
export const SELECT_CLUSTERS = `select ${COLUMNS} from clusters`;

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
  if (patch.provider !== undefined) set('provider', patch.provider);
  if (patch.nodePort !== undefined) set('node_port', patch.nodePort);
  if (patch.subnet !== undefined) set('subnet', patch.subnet, '::cidr');
  if (patch.registerPortainer !== undefined) set('register_portainer', patch.registerPortainer);
  if (patch.haproxyRoute !== undefined) set('haproxy_route', patch.haproxyRoute);
  if (patch.servers !== undefined) set('servers', patch.servers);
  if (patch.agents !== undefined) set('agents', patch.agents);
  if (patch.nodeCpus !== undefined) set('node_cpus', patch.nodeCpus);
  if (patch.nodeMemoryMib !== undefined) set('node_memory_mib', patch.nodeMemoryMib);
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

/** The entries of the state document named by parameter `param`, as (entry_name, entry) rows. */
const entriesOf = (param: string) =>
  `select e.key as entry_name, e.value as entry from kindler_state s, jsonb_each(s.value) e
    where s.key = ${param} and jsonb_typeof(s.value) = 'object'`;

/** Every environment in list order, `size` at a time through one cursor (see the Store's). */
export async function eachEnvironmentPage(
  db: Db,
  options: { entryKey: string; size: number; labels?: Record<string, string> },
  fn: (page: { environment: Environment; entry: unknown }[]) => void | Promise<void>,
): Promise<void> {
  const size = Math.max(1, Math.trunc(options.size));
  await db.transaction(async (tx) => {
    await tx.query(
      `declare kindler_rows no scroll cursor for
       select ${COLUMNS}, h.entry from clusters c
         left join (${entriesOf('$1')}) h on h.entry_name = c.name
        where name <> 'devops' and ($2::jsonb is null or labels @> $2::jsonb)
        order by created_at, seq`,
      [options.entryKey, options.labels ? JSON.stringify(options.labels) : null],
    );
    for (;;) {
      const rows = await tx.query<ClusterRow & { entry: unknown }>(
        `fetch forward ${size} from kindler_rows`,
      );
      if (rows.length === 0) break;
      await fn(rows.map((row) => ({ environment: toEnvironment(row), entry: row.entry ?? null })));
      if (rows.length < size) break;
    }
    await tx.query('close kindler_rows');
  });
}

export async function pageEnvironments(
  db: Queryable,
  page: EnvironmentPage,
): Promise<{ environments: Environment[]; next: string | null; entries: Record<string, unknown> }> {
  // `q` holds DNS-label characters only (checked by the caller): no LIKE wildcard in it. Each
  // row's entry of a state document comes with it, the document expanded once (a hash join, not
  // a read of the whole document per row): one query for the page, whatever it shows.
  const rows = await db.query<ClusterRow & { entry: unknown }>(
    `select ${COLUMNS}, h.entry from clusters c
       left join (${entriesOf('$5')}) h on h.entry_name = c.name
      where name <> 'devops' and ($1::text is null or name > $1)
       and ($3::text is null or name like '%' || $3 || '%')
       and ($4::text is null or status = $4)
       and ($6::text is null or h.entry ->> $6 = $7)
       and ($8::jsonb is null or labels @> $8::jsonb)
     order by name limit $2`,
    [
      page.after,
      page.limit + 1,
      page.q ?? null,
      page.status ?? null,
      page.entries?.key ?? null,
      page.entries?.where?.field ?? null,
      page.entries?.where?.equals ?? null,
      page.labels ? JSON.stringify(page.labels) : null,
    ],
  );
  const shown = rows.slice(0, page.limit);
  const environments = shown.map(toEnvironment);
  const entries: Record<string, unknown> = {};
  for (const row of shown)
    if (row.entry !== null && row.entry !== undefined) entries[row.name] = row.entry;
  return {
    environments,
    next: rows.length > page.limit ? (environments.at(-1)?.name ?? null) : null,
    entries,
  };
}

export async function listEnvironments(
  db: Queryable,
  labels?: Record<string, string>,
): Promise<Environment[]> {
  const rows = await db.query<ClusterRow>(
    `${SELECT_CLUSTERS} where name <> 'devops' and ($1::jsonb is null or labels @> $1::jsonb)
      order by created_at, seq`,
    [labels ? JSON.stringify(labels) : null],
  );
  return rows.map(toEnvironment);
}

export function environmentCounts(db: Queryable): Promise<{ status: string; count: number }[]> {
  return db.query(
    `select status, count(*)::int as count from clusters where name <> 'devops'
      group by status order by status`,
  );
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
