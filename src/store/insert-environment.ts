// A new environment's row, and a row moved to another provider: ports, subnet and node port chosen
// by the database under the allocation lock, on the row's site (a Docker host: ports are unique
// per host), lowest free value first. A site's count is checked under the same lock, so two
// creates racing for its last place cannot both have it.
import {
  Failure,
  LOCAL_SITE,
  alreadyExists,
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
  if (input.siteLimit != null) {
    const [held] = await tx.query<{ n: number }>(
      `select count(*)::int as n from clusters where site = $1 and name <> 'devops'`,
      [site],
    );
    if ((held?.n ?? 0) >= input.siteLimit)
      throw new Failure('busy', `site ${site}: ${held?.n} of ${input.siteLimit} environments`);
  }
  const http = await lowestFreePort(tx, ranges.http, 'KINDLER_HTTP_PORTS', [], site);
  // Reserve each port before choosing the next, so ranges that overlap never hand out one twice.
  const https = await lowestFreePort(tx, ranges.https, 'KINDLER_HTTPS_PORTS', [http], site);
  const pf = await lowestFreePort(tx, ranges.pf, 'KINDLER_PF_PORTS', [http, https], site);
  const { nodePort, subnet } = await allocateNetwork(tx, input.provider, ranges, null, site);
  const rows = await tx.query<ClusterRow>(
    `insert into clusters (name, provider, subnet, node_port, pf_port, http_port, https_port,
      status,
       register_portainer, haproxy_route, requested_by, source_url, expires_at, pinned, labels,
       source_repo, source_sha, source_actor, servers, agents, site, created_at, updated_at)
     values ($1, $2, $3::cidr, $4, $5, $6, $7, 'creating', $8, $9, $10, $11, $12, $13, $14::jsonb,
       $15, $16, $17, $18, $19, $20, timezone('utc', now()), timezone('utc', now()))
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

/** How many environments each site holds (the management cluster aside). */
export async function countBySite(db: Queryable): Promise<Record<string, number>> {
  const rows = await db.query<{ site: string; n: number }>(
    `select site, count(*)::int as n from clusters where name <> 'devops' group by site`,
  );
  return Object.fromEntries(rows.map((r) => [r.site, r.n]));
}
