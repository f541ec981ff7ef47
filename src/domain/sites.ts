// A site: a Docker endpoint the clusters of some environments run on. Its children reach it through
// DOCKER_HOST (or a `docker context` name), the devops side reaches its clusters' published ports
// at its address, and it holds at most so many environments. Without KINDLER_SITES there is one
// site, `local`: this process's own Docker, as before sites existed.

import { Failure } from './errors.js';
import { formatMemory, heldBy, type NodeSize } from './sizing.js';

export interface Site {
  /** A DNS label; recorded on every environment placed on it. */
  name: string;
  /** DOCKER_HOST for its children (`ssh://…`, `tcp://…`, `unix://…`); null: inherited. */
  dockerHost: string | null;
  /** A `docker context` name (DOCKER_CONTEXT) instead of a host; null: none. */
  dockerContext: string | null;
  /** Where the devops side reaches its clusters' published ports; null: where the bot runs. */
  address: string | null;
  labels: Record<string, string>;
  /** At most this many environments; null: no count of its own (its Docker's room decides). */
  maxEnvironments: number | null;
  /** At most this many CPUs and MiB, summed over its environments' nodes; null: no budget. */
  maxCpus: number | null;
  maxMemoryMib: number | null;
  /** The size of a node an environment placed here gets when its create names none. */
  nodeSize: NodeSize;
  /** Its own port and subnet ranges, where they differ from the KINDLER_* ones. */
  ranges: SiteRanges;
  /** Its own HAProxy, which routes its environments; null: the devops side's (HAPROXY_CONFIG). */
  gateway: SiteGateway | null;
  /** Its own Portainer, which its environments register with; null: the devops side's. */
  portainer: SitePortainer | null;
}

/** A site's Portainer; its API key is the variable portainerKeyVariable names, never the file. */
export interface SitePortainer {
  url: string;
  /** Where the Edge Agents in its clusters reach it (default: url). */
  edgeUrl: string;
}

/** The variable that holds a site's Portainer API key: PORTAINER_API_KEY_EU_1 for `eu-1`. */
export const portainerKeyVariable = (site: string): string =>
  `PORTAINER_API_KEY_${site.toUpperCase().replace(/-/g, '_')}`;

/**
 * An HAProxy container on the site's own Docker: its config is read, checked, replaced and
 * reloaded through that Docker (`docker exec`, `docker kill -s HUP`), no agent on the host. Its
 * environments' URLs are `whoami.<name>.<baseDomain>`, the domain resolving to the site.
 */
export interface SiteGateway {
  container: string;
  /** The config file inside the container. */
  configPath: string;
  baseDomain: string;
  /** Where users reach it. */
  httpPort: number;
}

/** A range of whole numbers, both ends included. */
export interface NumberRange {
  from: number;
  to: number;
}

/** The ranges a site allocates from instead of KINDLER_HTTP_PORTS and the rest. */
export interface SiteRanges {
  http?: NumberRange;
  https?: NumberRange;
  pf?: NumberRange;
  kindNodePorts?: NumberRange;
  /** k3d subnets 10.<n>.0.0/16. */
  subnetOctets?: NumberRange;
}

export const LOCAL_SITE = 'local';

/** The default: this process's own Docker, with nothing set. */
export const localSite = (): Site => ({
  name: LOCAL_SITE,
  dockerHost: null,
  dockerContext: null,
  address: null,
  labels: {},
  maxEnvironments: null,
  maxCpus: null,
  maxMemoryMib: null,
  nodeSize: { nodeCpus: null, nodeMemoryMib: null },
  ranges: {},
  gateway: null,
  portainer: null,
});

/** Sites with a gateway of their own: the domain and port their environments' URLs use. */
export const siteUrls = (
  sites: readonly Site[],
): Record<string, { baseDomain: string; gatewayPort: number }> =>
  Object.fromEntries(
    sites.flatMap((s) =>
      s.gateway
        ? [[s.name, { baseDomain: s.gateway.baseDomain, gatewayPort: s.gateway.httpPort }]]
        : [],
    ),
  );

/** What a child process for this site's clusters adds to its environment. */
export function siteEnv(site: Site): Record<string, string> {
  return {
    ...(site.dockerHost ? { DOCKER_HOST: site.dockerHost } : {}),
    ...(site.dockerContext ? { DOCKER_CONTEXT: site.dockerContext } : {}),
  };
}

/** What a site's environments' nodes hold, summed. */
export interface SiteHeld {
  cpus: number;
  memoryMib: number;
}

/** What a site holds: how many environments, and their nodes' CPUs and memory. */
export interface SiteUsage extends SiteHeld {
  environments: number;
}

/** What `docker info` says of a site's room, as measured when it was asked. */
export interface SiteRoom {
  cpus: number;
  memoryBytes: number;
  containersRunning: number;
}

/** A site as placement saw it: its count, its measured room, or why it could not be reached. */
export interface SiteState {
  site: Site;
  environments: number;
  /** What its environments' nodes hold of its budgets (CPUs and MiB). */
  held: SiteHeld;
  room: SiteRoom | null;
  /** Why the site is out of reach (docker info failed); null when it answered. */
  down: string | null;
  /** Why it cannot take the environment asked about (`full`: its count); null when it can. */
  short: string | null;
}

/** The size a new environment's nodes get on `site`: what was asked, else the site's default. */
export const sizeOn = (site: Site, asked: Partial<NodeSize>): NodeSize => ({
  nodeCpus: asked.nodeCpus ?? site.nodeSize.nodeCpus,
  nodeMemoryMib: asked.nodeMemoryMib ?? site.nodeSize.nodeMemoryMib,
});

/**
 * Why a site of these limits, holding `usage`, cannot take one more environment of `nodes` nodes of
 * `size`: its count, a budget, or its Docker host too small for it (`room`, as measured); null
 * when it can. `full` is the count's.
 */
export function shortOf(
  limits: Pick<Site, 'maxEnvironments' | 'maxCpus' | 'maxMemoryMib'>,
  usage: SiteUsage,
  room: SiteRoom | null,
  nodes: number,
  size: NodeSize,
): string | null {
  if (limits.maxEnvironments !== null && usage.environments >= limits.maxEnvironments)
    return 'full';
  const add = heldBy(nodes, size);
  if (limits.maxCpus !== null && usage.cpus + add.cpus > limits.maxCpus)
    return (
      `${nodes} node(s) of ${size.nodeCpus} CPUs need ${round(add.cpus)}, ` +
      `${round(Math.max(0, limits.maxCpus - usage.cpus))} left of max_cpus`
    );
  if (limits.maxMemoryMib !== null && usage.memoryMib + add.memoryMib > limits.maxMemoryMib)
    return (
      `${nodes} node(s) of ${formatMemory(size.nodeMemoryMib ?? 0)} need ` +
      `${formatMemory(add.memoryMib)}, ` +
      `${formatMemory(Math.max(0, limits.maxMemoryMib - usage.memoryMib))} left of max_memory`
    );
  if (room?.cpus && size.nodeCpus !== null && size.nodeCpus > room.cpus)
    return `a node of ${size.nodeCpus} CPUs is more than its Docker's ${room.cpus}`;
  if (room?.memoryBytes && add.memoryMib * 2 ** 20 > room.memoryBytes)
    return (
      `${nodes} node(s) of ${formatMemory(size.nodeMemoryMib ?? 0)} are more than its ` +
      `Docker's ${gib(room.memoryBytes)}`
    );
  return null;
}

const round = (n: number) => Math.round(n * 100) / 100;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** One line of a refusal: how full a site is, its budgets, its room, or why it is out. */
export function describeSite(state: SiteState): string {
  const { site, held } = state;
  if (state.down) return `site ${site.name}: down (${state.down})`;
  const count =
    site.maxEnvironments === null
      ? `${state.environments} environments`
      : `${state.environments} of ${site.maxEnvironments} environments`;
  const budgets = [
    ...(site.maxCpus === null ? [] : [`${round(held.cpus)} of ${site.maxCpus} CPUs held`]),
    ...(site.maxMemoryMib === null
      ? []
      : [
          `${formatMemory(held.memoryMib)} of ${formatMemory(site.maxMemoryMib)} memory held ` +
            `(${Math.round((100 * held.memoryMib) / site.maxMemoryMib)} %)`,
        ]),
  ];
  const room = state.room
    ? `; ${state.room.cpus} CPUs, ${gib(state.room.memoryBytes)}, ` +
      `${state.room.containersRunning} containers running`
    : '';
  const short = state.short && state.short !== 'full' ? `; ${state.short}` : '';
  return `site ${site.name}: ${[count, ...budgets].join(', ')}${room}${short}`;
}

/** Whether a site may take the environment placement asked about. */
export const hasRoom = (state: SiteState): boolean => state.down === null && state.short === null;

/** A site filled meanwhile (checked under the allocation lock): placement tries the next. */
export class SiteFull extends Failure {
  constructor(
    site: string,
    /** What it holds now, and why it cannot take the environment (`full`: its count). */
    readonly usage: SiteUsage,
    readonly short: string,
    why: string,
  ) {
    super('busy', `site ${site}: ${why}`);
  }
}

/** No site may take the environment: each one's count, room or why it is out, in one refusal. */
export function noRoom(name: string, states: SiteState[]): Failure {
  return new Failure(
    'busy',
    `no site has room for "${name}": ${states.map(describeSite).join('; ')}. To resolve, ` +
      `delete environments you no longer need, ask for smaller nodes, raise the site's limits ` +
      `in KINDLER_SITES, or bring the site that is down back; nothing was recorded`,
  );
}
