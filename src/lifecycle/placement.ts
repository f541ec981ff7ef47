// Placement: which site a new environment's cluster goes to. Those named (`--site`) or carrying
// the labels asked for (`--where region=eu`) are candidates; each is counted (the database) and,
// when sites are declared, measured (`docker info` through its DOCKER_HOST): a site that does not
// answer is down. The one with the most room left by its count comes first, then the one running
// the fewest containers. A site's budgets (max_cpus, max_memory) count its nodes' sizes, and a node
// bigger than a site's Docker can give is not placed there. The count and budgets are checked again
// under the allocation lock when the row is inserted (a site filled meanwhile passes the turn on).
import {
  Failure,
  hasRoom,
  labelsText,
  matchesLabels,
  messageOf,
  shortOf,
  sizeOn,
  type NodeSize,
  type Site,
  type SiteRoom,
  type SiteState,
  type SiteUsage,
} from '../domain/index.js';

/** Where a create asks to go, and what it needs there: its nodes, of the size it asks. */
export interface Wanted {
  site?: string;
  where?: Record<string, string>;
  nodes: number;
  size: Partial<NodeSize>;
}

export interface PlacementDeps {
  sites: readonly Site[];
  /** Whether sites were declared (only then is each measured). */
  declared: boolean;
  measure(site: Site): Promise<SiteRoom>;
}

const free = (s: SiteState): number =>
  !hasRoom(s)
    ? -1
    : s.site.maxEnvironments === null
      ? Number.MAX_SAFE_INTEGER
      : s.site.maxEnvironments - s.environments;

/** Each site's default node size, as the usage query counts a node without one. */
export const siteDefaults = (sites: readonly Site[]): Record<string, NodeSize> =>
  Object.fromEntries(sites.map((s) => [s.name, s.nodeSize]));

/** Every candidate, best first; refused (invalid_input) when none is named or has the labels. */
export async function siteStates(
  deps: PlacementDeps,
  usage: Record<string, SiteUsage>,
  wanted: Wanted,
): Promise<SiteState[]> {
  const all = deps.sites.map((s) =>
    Object.keys(s.labels).length ? `${s.name} (${labelsText(s.labels)})` : s.name,
  );
  let sites = deps.sites;
  if (wanted.site !== undefined) {
    sites = sites.filter((s) => s.name === wanted.site);
    if (!sites.length)
      throw new Failure(
        'invalid_input',
        `there is no site "${wanted.site}"; the sites are ${all.join(', ')}. Nothing was recorded`,
      );
  }
  if (wanted.where && Object.keys(wanted.where).length) {
    const where = wanted.where;
    sites = sites.filter((s) => matchesLabels(s.labels, where));
    if (!sites.length)
      throw new Failure(
        'invalid_input',
        `no site carries ${labelsText(where)}; the sites are ${all.join(', ')}. ` +
          'Nothing was recorded',
      );
  }
  const states = await Promise.all(
    sites.map(async (site): Promise<SiteState> => {
      const used = usage[site.name] ?? { environments: 0, cpus: 0, memoryMib: 0 };
      const base = { site, environments: used.environments, held: used };
      const short = (room: SiteRoom | null) =>
        shortOf(site, used, room, wanted.nodes, sizeOn(site, wanted.size));
      if (!deps.declared) return { ...base, room: null, down: null, short: short(null) };
      try {
        const room = await deps.measure(site);
        return { ...base, room, down: null, short: short(room) };
      } catch (error) {
        return { ...base, room: null, down: messageOf(error), short: null };
      }
    }),
  );
  // Those without room keep the order they are declared in (a refusal lists them so).
  const running = (s: SiteState) => (hasRoom(s) ? (s.room?.containersRunning ?? 0) : 0);
  return states.sort((a, b) => free(b) - free(a) || running(a) - running(b));
}
