// The allocator: ports and subnets chosen by the database inside the caller's transaction,
// serialised by an advisory lock, lowest free value first (the unique indexes are the backstop).
import { Failure, type ProviderName, type SiteRanges } from '../domain/index.js';
import type { Queryable } from './db.js';

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
  /** A site's own ranges (KINDLER_SITES), where they differ from these. */
  sites?: Record<string, SiteRanges>;
  /** Where the sites were declared, for what a refusal says to widen (unset: KINDLER_SITES). */
  sitesIn?: string;
}

/** What a range is called where it is set: a KINDLER_* variable, or a site's field. */
export type RangeNames = Record<'http' | 'https' | 'pf' | 'kindNodePorts' | 'subnetOctets', string>;

const VARIABLES: RangeNames = {
  http: 'KINDLER_HTTP_PORTS',
  https: 'KINDLER_HTTPS_PORTS',
  pf: 'KINDLER_PF_PORTS',
  kindNodePorts: 'KINDLER_KIND_NODE_PORTS',
  subnetOctets: 'KINDLER_SUBNET_OCTETS',
};
const FIELDS: RangeNames = {
  http: 'http_ports',
  https: 'https_ports',
  pf: 'pf_ports',
  kindNodePorts: 'kind_node_ports',
  subnetOctets: 'subnet_octets',
};

/** The ranges `site` allocates from, and what each is called where it is set. */
export function rangesOn(
  ranges: AllocationRanges,
  site: string,
): { ranges: AllocationRanges; names: RangeNames } {
  const own = ranges.sites?.[site] ?? {};
  const declaredIn = ranges.sitesIn ?? 'KINDLER_SITES';
  const names = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, variable]) => [
      key,
      key in own ? `${FIELDS[key as keyof RangeNames]} of site ${site} in ${declaredIn}` : variable,
    ]),
  ) as RangeNames;
  return { ranges: { ...ranges, ...own }, names };
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

function exhausted(range: Range, variable: string): Failure {
  return new Failure(
    'invalid_input',
    `no free value left in ${range.from}-${range.to}. To resolve, ` +
      `widen ${variable} or delete environments you no longer need`,
  );
}

/**
 * The node port and subnet a cluster of `provider` gets (k3d: the shared node port and a subnet of
 * its own; kind: a node port of its own), `except` the row being given them. Under the allocation
 * lock, taken in the caller's transaction.
 */
export async function allocateNetwork(
  tx: Queryable,
  provider: ProviderName,
  ranges: AllocationRanges,
  except: string | null,
  site: string,
): Promise<{ nodePort: number; subnet: string | null }> {
  await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
  const { ranges: own, names } = rangesOn(ranges, site);
  if (provider === 'kind') {
    const rows = await tx.query<{ p: number }>(
      `select p from generate_series($1::int, $2::int) p
       where p not in (select node_port from clusters where provider = 'kind' and site = $4
                         and node_port between $1 and $2 and name is distinct from $3)
      order by p limit 1`,
      [own.kindNodePorts.from, own.kindNodePorts.to, except, site],
    );
    if (!rows[0]) throw exhausted(own.kindNodePorts, names.kindNodePorts);
    return { nodePort: rows[0].p, subnet: null };
  }
  const rows = await tx.query<{ n: number }>(
    `select n from generate_series($1::int, $2::int) n
     where ('10.' || n || '.0.0/16')::cidr not in (
       select subnet from clusters where site = $4 and subnet is not null
         and name is distinct from $3)
     order by n limit 1`,
    [own.subnetOctets.from, own.subnetOctets.to, except, site],
  );
  if (!rows[0]) throw exhausted(own.subnetOctets, names.subnetOctets);
  return { nodePort: own.k3dNodePort, subnet: `10.${rows[0].n}.0.0/16` };
}

/**
 * A host port is free on a site (a Docker host) when no row of that site uses it in any of its
 * port columns (nor this insert).
 */
export async function lowestFreePort(
  tx: Queryable,
  range: Range,
  variable: string,
  taken: number[],
  site: string,
): Promise<number> {
  // The site's ports in the range are read once (each column through its (site, port) index) and
  // hashed; a per-value probe of all three columns is a scan of the table per candidate.
  const rows = await tx.query<{ p: number }>(
    `select p from generate_series($1::int, $2::int) p
     where p <> all($3::int[])
       and p not in (
         select http_port from clusters where site = $4 and http_port between $1 and $2
         union all
         select https_port from clusters where site = $4 and https_port between $1 and $2
         union all
         select pf_port from clusters where site = $4 and pf_port between $1 and $2)
     order by p limit 1`,
    [range.from, range.to, taken, site],
  );
  if (!rows[0]) throw exhausted(range, variable);
  return rows[0].p;
}
