// What of the runtime depends on the sites, replaced together when the config repository declares
// others (store/declared-sites.ts): each site's providers, its gateway and Portainer, how its URLs
// are written and the ranges it allocates from. Everything new is built before anything is
// replaced, so a declaration this process cannot use (a site's Portainer without its key) leaves
// it working as it was, and says why.
import { urlSettings, type Config } from './config/config.js';
import { messageOf, siteUrls, type Site, type UrlSettings } from './domain/index.js';
import type { CliSettings } from './providers/provider.js';
import { fleetOf, measuring, type SiteFleet } from './providers/site-fleet.js';
import { Gateways, haproxyGateway } from './registrars/gateways.js';
import { Portainers } from './registrars/portainers.js';
import type { KnownSites } from './store/declared-sites.js';
import type { AllocationRanges } from './store/allocation.js';

export class LiveSites {
  private constructor(
    private readonly config: Config,
    private readonly cli: CliSettings,
    private readonly ranges: AllocationRanges,
    readonly fleet: SiteFleet,
    readonly gateways: Gateways,
    readonly portainers: Portainers,
    readonly urls: UrlSettings,
    private known: KnownSites,
  ) {}

  /** The parts for `known`; throws (nothing built is kept) when they cannot be had. */
  static of(config: Config, cli: CliSettings, ranges: AllocationRanges, known: KnownSites) {
    const { portainers, gateways } = placesOf(config, known.sites);
    const fleet = fleetOf(known.sites, cli, known.source !== 'default');
    setRanges(ranges, known);
    const urls = urlSettings(config, known.sites);
    return new LiveSites(config, cli, ranges, fleet, gateways, portainers, urls, known);
  }

  /** Why `sites` could not be used here (a site's Portainer without its key); null: they can. */
  static problem(config: Config, sites: readonly Site[]): string | null {
    try {
      Portainers.of(config, sites);
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  /** Whether `known` differs from the sites used now. */
  differs(known: KnownSites): boolean {
    return known.source !== this.known.source || known.declared !== this.known.declared;
  }

  /** From now on, `known`; throws, and changes nothing, when its parts cannot be had. */
  use(known: KnownSites): void {
    const { portainers, gateways } = placesOf(this.config, known.sites);
    this.portainers.adopt(portainers);
    this.gateways.adopt(gateways);
    this.fleet.use(known.sites, measuring(this.cli, known.source !== 'default'));
    this.urls.sites = siteUrls(known.sites);
    setRanges(this.ranges, known);
    this.known = known;
  }
}

/** Each site's own Portainer and gateway, beside the devops side's (throws: a key is missing). */
function placesOf(config: Config, sites: readonly Site[]) {
  return {
    portainers: Portainers.of(config, sites),
    gateways: Gateways.of(haproxyGateway(config, sites), sites, config),
  };
}

/** Each site's own ranges, and where they were declared. */
function setRanges(ranges: AllocationRanges, known: KnownSites): void {
  ranges.sites = Object.fromEntries(known.sites.map((s) => [s.name, s.ranges]));
  ranges.sitesIn = known.source === 'repository' ? '.github/kindler.yml' : 'KINDLER_SITES';
}

/** How the k3d and kind CLIs are run. */
export const cliSettings = (config: Config): CliSettings => ({
  timeoutMs: config.KINDLER_CLI_TIMEOUT_MS,
  k3dImage: config.K3D_IMAGE,
  kindNodeImage: config.KIND_NODE_IMAGE,
  kindApiServerAddress: config.KIND_API_SERVER_ADDRESS,
});
