// A new environment's row, and a row moved to another provider: ports, subnet and node port chosen
// by the database under the allocation lock, on the row's site (a Docker host: ports are unique
// per host), lowest free value first. A site's count is checked under the same lock, so two
// creates racing for its last place cannot both have it.
import {
  Failure,
  LOCAL_SITE,
  SiteFull,
  alreadyExists,
  shortOf,
  type NodeSize,
  type SiteLimits,
  type SiteUsage,
  type EnvName,
  type Environment,
  type NewEnvironment,
  type ProviderName,
} from '../domain/index.js';
import type { Db, Queryable } from './db.js';
import { toEnvironment, type ClusterRow } from './rows.js';
import {
  ALLOCATION_LOCK,
  allocateNetwork,
  lowestFreePort,
  rangesOn,
  type AllocationRanges,
} from './allocation.js';
import type { EnvironmentPatch } from './environment-store.js';
import { COLUMNS, SELECT_CLUSTERS, updateEnvironment } from './environments.js';

export async function insertEnvironment(
  tx: Queryable,
  input: NewEnvironment,
  ranges: AllocationRanges,
): Promise<Environment> {
  await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
  const existing = await tx.query<ClusterRow>(`${SELECT_CLUSTERS} where name = $1`, [input.name]);
  if (existing[0]) throw alreadyExists(toEnvironment(existing[0]));
  const site = input.site ?? LOCAL_SITE;
  const limits = input.siteLimits;
  // A site with a limit of its own is counted again here; one without has nothing to count.
  if (
    limits &&
    [limits.maxEnvironments, limits.maxCpus, limits.maxMemoryMib].some((l) => l !== null)
  ) {
    const held = (await usageBySite(tx, { [site]: limits.nodeSize }, { site }))[site] ?? NO_USAGE;
    const short = shortOf(limits, held, null, (input.servers ?? 1) + (input.agents ?? 0), {
      nodeCpus: input.nodeCpus ?? null,
      nodeMemoryMib: input.nodeMemoryMib ?? null,
    });
    if (short)
      throw new SiteFull(
        site,
        held,
        short,
        short === 'full' ? `${held.environments} of ${limits.maxEnvironments} environments` : short,
      );
  }
  const { ranges: own, names } = rangesOn(ranges, site);
  const http = await lowestFreePort(tx, own.http, names.http, [], site);
  // Reserve each port before choosing the next, so ranges that overlap never hand out one twice.
  const https = await lowestFreePort(tx, own.https, names.https, [http], site);
  const pf = await lowestFreePort(tx, own.pf, names.pf, [http, https], site);
  const { nodePort, subnet } = await allocateNetwork(tx, input.provider, ranges, null, site);
  const rows = await tx.query<ClusterRow>(
    `insert into clusters (name, provider, subnet, node_port, pf_port, http_port, https_port,
      status,
       register_portainer, haproxy_route, requested_by, source_url, expires_at, pinned, labels,
       source_repo, source_sha, source_actor, servers, agents, site, node_cpus, node_memory_mib,
       created_at, updated_at)
     values ($1, $2, $3::cidr, $4, $5, $6, $7, 'creating', $8, $9, $10, $11, $12, $13, $14::jsonb,
       $15, $16, $17, $18, $19, $20, $21, $22, timezone('utc', now()), timezone('utc', now()))
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
      input.servers ?? 1,
      input.agents ?? 0,
      site,
      input.nodeCpus ?? null,
      input.nodeMemoryMib ?? null,
    ],
  );
  return toEnvironment(rows[0] as ClusterRow);
}

/** The row under another provider: its node port and subnet allocated anew, as a create's are. */
export function moveEnvironment(
  db: Db,
  name: EnvName,
  patch: EnvironmentPatch & { provider: ProviderName },
  ranges: AllocationRanges,
): Promise<Environment> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ site: string }>('select site from clusters where name = $1', [
      name,
    ]);
    const net = await allocateNetwork(tx, patch.provider, ranges, name, row?.site ?? LOCAL_SITE);
    return updateEnvironment(tx, name, { ...net, ...patch });
  });
}

const NO_USAGE: SiteUsage = { environments: 0, cpus: 0, memoryMib: 0 };

/**
 * What each site holds (the management cluster aside): its environments, and their nodes' CPUs and
 * memory summed, a node without a size of its own counted at its site's default (`defaults`).
 */
export async function usageBySite(
  db: Queryable,
  defaults: Record<string, NodeSize>,
  only?: { site: string; except?: string },
): Promise<Record<string, SiteUsage>> {
  const rows = await db.query<{ site: string; n: number; cpus: number; mib: number }>(
    `select site, count(*)::int as n,
       coalesce(sum((servers + agents) *
         coalesce(node_cpus, ($1::jsonb -> site ->> 'nodeCpus')::numeric, 0)), 0)::float8 as cpus,
       coalesce(sum((servers + agents) *
         coalesce(node_memory_mib, ($1::jsonb -> site ->> 'nodeMemoryMib')::int, 0)), 0)::float8
         as mib
     from clusters where name <> 'devops' and ($2::text is null or site = $2)
       and ($3::text is null or name <> $3) group by site`,
    [JSON.stringify(defaults), only?.site ?? null, only?.except ?? null],
  );
  return Object.fromEntries(
    rows.map((r) => [
      r.site,
      { environments: r.n, cpus: Number(r.cpus), memoryMib: Number(r.mib) },
    ]),
  );
}

/**
 * An environment grown to `nodes` nodes of `size` (an update), checked against its site's budgets
 * under the allocation lock, the others' nodes counted as placement counts them; the refusal names
 * the budget.
 */
export async function checkGrowth(
  tx: Queryable,
  site: SiteLimits & { name: string },
  name: string,
  nodes: number,
  size: NodeSize,
): Promise<void> {
  await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
  const others = await usageBySite(
    tx,
    { [site.name]: site.nodeSize },
    { site: site.name, except: name },
  );
  const short = shortOf(
    { ...site, maxEnvironments: null },
    others[site.name] ?? NO_USAGE,
    null,
    nodes,
    size,
  );
  if (short)
    throw new Failure(
      'busy',
      `site ${site.name}: ${short}. To resolve, ask for less, or raise the site's limits in ` +
        `KINDLER_SITES; nothing was changed`,
    );
}
