// A site: a Docker endpoint the clusters of some environments run on. Its children reach it through
// DOCKER_HOST (or a `docker context` name), the devops side reaches its clusters' published ports
// at its address, and it holds at most so many environments. Without KINDLER_SITES there is one
// site, `local`: this process's own Docker, as before sites existed.

import { Failure } from './errors.js';

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
});

/** What a child process for this site's clusters adds to its environment. */
export function siteEnv(site: Site): Record<string, string> {
  return {
    ...(site.dockerHost ? { DOCKER_HOST: site.dockerHost } : {}),
    ...(site.dockerContext ? { DOCKER_CONTEXT: site.dockerContext } : {}),
  };
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
  room: SiteRoom | null;
  /** Why the site is out of reach (docker info failed); null when it answered. */
  down: string | null;
}

/** One line of a refusal: how full a site is, or why it is out. */
export function describeSite(state: SiteState): string {
  const { site } = state;
  if (state.down) return `site ${site.name}: down (${state.down})`;
  const count =
    site.maxEnvironments === null
      ? `${state.environments} environments`
      : `${state.environments} of ${site.maxEnvironments} environments`;
  const room = state.room
    ? `; ${state.room.cpus} CPUs, ${(state.room.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `${state.room.containersRunning} containers running`
    : '';
  return `site ${site.name}: ${count}${room}`;
}

/** Whether a site has room for one more environment by its count. */
export const hasRoom = (state: SiteState): boolean =>
  state.down === null &&
  (state.site.maxEnvironments === null || state.environments < state.site.maxEnvironments);

/** A site's count was reached (checked under the allocation lock): placement tries the next. */
export class SiteFull extends Failure {
  constructor(site: string, held: number, limit: number) {
    super('busy', `site ${site}: ${held} of ${limit} environments`);
  }
}

/** No site may take the environment: each one's count, room or why it is out, in one refusal. */
export function noRoom(name: string, states: SiteState[]): Failure {
  return new Failure(
    'busy',
    `no site has room for "${name}": ${states.map(describeSite).join('; ')}. To resolve, ` +
      `delete environments you no longer need, raise max_environments in KINDLER_SITES, or ` +
      `bring the site that is down back; nothing was recorded`,
  );
}
