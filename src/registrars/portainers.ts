// Which Portainer an environment registers with: its site's own (KINDLER_SITES `portainer:`, the
// API key in PORTAINER_API_KEY_<SITE>), else the devops side's (PORTAINER_URL).
import type { Config } from '../config/config.js';
import { Failure, portainerKeyVariable, type Site } from '../domain/index.js';
import { PerSite } from './per-site.js';
import { PortainerClient } from './portainer-client.js';

export class Portainers extends PerSite<PortainerClient> {
  /** The devops side's from PORTAINER_URL, and one per site that declares its own. */
  static of(config: Config, sites: readonly Site[]): Portainers {
    const main = config.PORTAINER_URL
      ? new PortainerClient({
          url: config.PORTAINER_URL,
          apiKey: config.PORTAINER_API_KEY,
          username: config.PORTAINER_ADMIN_USER,
          password: config.PORTAINER_ADMIN_PASSWORD,
          edgeUrl: config.PORTAINER_EDGE_URL ?? config.PORTAINER_URL,
          groupId: config.PORTAINER_GROUP_ID,
        })
      : null;
    return new Portainers(
      main,
      sites.flatMap((site): [string, PortainerClient][] => {
        if (!site.portainer) return [];
        const variable = portainerKeyVariable(site.name);
        const apiKey = config.portainerKeys[variable];
        if (!apiKey)
          throw new Failure(
            'not_configured',
            `site ${site.name} declares a Portainer (${site.portainer.url}) but ${variable} is ` +
              `not set. To resolve, set ${variable} to an API key of that Portainer ` +
              `(docs/sites.md)`,
          );
        return [
          [
            site.name,
            new PortainerClient({
              url: site.portainer.url,
              apiKey,
              username: config.PORTAINER_ADMIN_USER,
              edgeUrl: site.portainer.edgeUrl,
              groupId: config.PORTAINER_GROUP_ID,
            }),
          ],
        ];
      }),
    );
  }
}
