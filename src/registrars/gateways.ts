// Which gateway routes which environments: a site with a gateway of its own (KINDLER_SITES
// `gateway:`) routes its environments there, and only there; every other site's go through the
// devops side's (HAPROXY_CONFIG). Each gateway is rendered from its own environments' rows, so it
// prunes itself of the rest.
import type { Config } from '../config/config.js';
import type { Site } from '../domain/index.js';
import { ContainerGatewayFile } from './gateway-container.js';
import { gatewaySettings, type GatewayRow, type GatewaySettings } from './haproxy-config.js';
import { HaproxyGateway } from './haproxy-gateway.js';
import { PerSite } from './per-site.js';

/** The HAProxy config the gateway routes are kept in; null when HAPROXY_CONFIG is not set. */
export function haproxyGateway(config: Config, sites: readonly Site[] = []): HaproxyGateway | null {
  return config.HAPROXY_CONFIG
    ? new HaproxyGateway({
        configPath: config.HAPROXY_CONFIG,
        reloadCommand: config.HAPROXY_RELOAD_COMMAND,
        haproxyBin: config.HAPROXY_BIN,
        checkCommand: config.HAPROXY_CHECK_COMMAND,
        timeoutMs: config.KINDLER_CLI_TIMEOUT_MS,
        ...routeSettings(sites, config.HAPROXY_BACKEND_HOST)(undefined),
      })
    : null;
}

export class Gateways extends PerSite<HaproxyGateway> {
  /** Sites that declare one get a gateway each, reached through their own Docker. */
  static of(
    main: HaproxyGateway | null,
    sites: readonly Site[],
    config: Pick<Config, 'HAPROXY_BACKEND_HOST' | 'KINDLER_CLI_TIMEOUT_MS'>,
  ): Gateways {
    const settingsOf = routeSettings(sites, config.HAPROXY_BACKEND_HOST);
    return new Gateways(
      main,
      sites.flatMap((site) =>
        site.gateway
          ? [
              [
                site.name,
                new HaproxyGateway({
                  ...settingsOf(site.name),
                  file: new ContainerGatewayFile({
                    site,
                    gateway: site.gateway,
                    timeoutMs: config.KINDLER_CLI_TIMEOUT_MS,
                  }),
                }),
              ] as [string, HaproxyGateway],
            ]
          : [],
      ),
    );
  }

  /** Of `rows`, those the gateway of `site` routes. */
  rowsOf<T extends GatewayRow>(site: string | undefined, rows: T[]): T[] {
    if (site !== undefined && this.bySite.has(site)) return rows.filter((r) => r.site === site);
    return rows.filter((r) => !(r.site !== undefined && this.bySite.has(r.site)));
  }
}

/**
 * The settings each site's routes are rendered (and checked) with: on a site with a gateway of its
 * own, its HAProxy reaches the clusters beside it at the site's address, else on its loopback; on
 * the others, the devops side's HAProxy reaches them at the site's address or HAPROXY_BACKEND_HOST.
 */
export function routeSettings(
  sites: readonly Site[],
  backendHost: string,
): (site: string | undefined) => GatewaySettings {
  const main = gatewaySettings(backendHost, sites);
  const own = new Map(
    sites.flatMap((s) => (s.gateway ? [[s.name, gatewaySettings(s.address ?? '127.0.0.1')]] : [])),
  );
  return (site) => (site !== undefined && own.get(site)) || main;
}
