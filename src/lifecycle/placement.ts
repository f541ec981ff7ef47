// Placement: which site a new environment's cluster goes to. Those named (`--site`) or carrying
// the labels asked for (`--where region=eu`) are candidates; each is counted (the database) and,
// when sites are declared, measured (`docker info` through its DOCKER_HOST): a site that does not
// answer is down. The one with the most room left by its count comes first, then the one running
// the fewest containers; the count is checked again under the allocation lock when the row is
// inserted (a site filled meanwhile passes the turn to the next).
import {
  Failure,
  hasRoom,
  labelsText,
  matchesLabels,
  messageOf,
  type Site,
  type SiteRoom,
  type SiteState,
} from '../domain/index.js';

/** Where a create asks to go. */
export interface Wanted {
  site?: string;
  where?: Record<string, string>;
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

/** Every candidate, best first; refused (invalid_input) when none is named or has the labels. */
export async function siteStates(
  deps: PlacementDeps,
  counts: Record<string, number>,
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
      const environments = counts[site.name] ?? 0;
      if (!deps.declared) return { site, environments, room: null, down: null };
      try {
        return { site, environments, room: await deps.measure(site), down: null };
      } catch (error) {
        return { site, environments, room: null, down: messageOf(error) };
      }
    }),
  );
  // Those without room keep the order they are declared in (a refusal lists them so).
  const running = (s: SiteState) => (hasRoom(s) ? (s.room?.containersRunning ?? 0) : 0);
  return states.sort((a, b) => free(b) - free(a) || running(a) - running(b));
}
