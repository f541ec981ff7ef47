// What a consistency check makes of the clusters every site lists: pure judgements, no call per
// environment. The row's cluster must run on its site, in its provider, with its ports and nodes.
import {
  PROVIDERS,
  afterShell,
  command,
  type Environment,
  type ProviderName,
} from '../domain/index.js';
import type { Observation, SystemView } from '../lifecycle/step.js';
import type { ClusterInfo } from './provider.js';

/**
 * The node port the host's http port leads to: k3s's Traefik on 80; on kind, Traefik's NodePort.
 */
export const httpContainerPort = (env: Environment): number =>
  env.provider === 'kind' ? env.nodePort : 80;

export function portDrift(env: Environment, info: ClusterInfo): string | null {
  const want = [
    [httpContainerPort(env), env.httpPort],
    [443, env.httpsPort],
  ] as const;
  const diffs = want.flatMap(([container, host]) => {
    const actual = info.ports.filter((p) => p.container === container).map((p) => p.host);
    return actual.includes(host)
      ? []
      : [
          `port ${container} is published on ` +
            `${actual.join('/') || 'nothing'}, the database says ${host}`,
        ];
  });
  return diffs.length ? diffs.join('; ') : null;
}

/** How the cluster's nodes differ from the row's, when its listing tells them (k3d's does). */
export function nodeDrift(env: Environment, info: ClusterInfo): string | null {
  const nodes = info.nodes;
  if (!nodes || (nodes.servers === env.servers && nodes.agents === env.agents)) return null;
  return (
    `the cluster has ${nodes.servers} server(s) and ${nodes.agents} agent(s), ` +
    `the database says ${env.servers} and ${env.agents}`
  );
}

export const deleteClusterCommand = (p: ProviderName, name: string): string =>
  p === 'k3d' ? `k3d cluster delete ${name}` : `kind delete cluster --name ${name}`;
const other = (p: ProviderName): ProviderName => (p === 'k3d' ? 'kind' : 'k3d');

/** What each site's listing of each provider answered, by site name. */
export type SiteObservations = Record<string, Record<ProviderName, Observation<ClusterInfo>>>;

/**
 * The clusters of both providers on every site: the row's one must run on its site, in its
 * provider, with its ports. `named`: sites are declared, and what is listed says which it is on.
 */
export function clusterView(observed: SiteObservations, named = false): SystemView {
  const sites = Object.keys(observed);
  // Each listing as a map by name, made once per check (assess runs once per environment).
  const maps = new Map(
    sites.flatMap((site) =>
      PROVIDERS.map((p) => {
        const o = observed[site]?.[p];
        const map = o?.state === 'ok' ? new Map(o.items.map((c) => [c.name, c])) : null;
        return [`${site}/${p}`, map] as const;
      }),
    ),
  );
  const listed = (site: string, p: ProviderName) => maps.get(`${site}/${p}`) ?? null;
  const on = (site: string) => (named ? ` on site ${site}` : '');
  const reported = (site: string, o: Observation<ClusterInfo>): Observation<ClusterInfo> =>
    named && o.state !== 'ok' ? { ...o, reason: `site ${site}: ${o.reason}` } : o;
  return {
    observations: sites.flatMap((site) =>
      PROVIDERS.map((system) => ({
        system,
        observation: reported(
          site,
          (observed[site] as Record<ProviderName, Observation<ClusterInfo>>)[system],
        ),
        ...(named ? { site } : {}),
      })),
    ),
    assess({ env, repair, recreate }) {
      const own = observed[env.site]?.[env.provider];
      // A site no longer declared: its clusters cannot be read from here.
      if (!own) return 'unknown';
      if (own.state !== 'ok') return own.state;
      const system = env.provider;
      const info = listed(env.site, system)?.get(env.name);
      if (!info) {
        const elsewhere = other(system);
        return listed(env.site, elsewhere)?.has(env.name)
          ? [
              {
                kind: 'mismatch',
                system,
                detail: `the database says ${system}, the cluster runs in ${elsewhere}`,
                fix: afterShell(deleteClusterCommand(elsewhere, env.name), repair),
              },
            ]
          : [
              {
                kind: 'missing',
                system,
                detail: `no ${system} cluster "${env.name}"${on(env.site)}`,
                fix: recreate,
              },
            ];
      }
      // A halted cluster publishes no ports: whether it should run is what is judged.
      if (!info.running)
        return env.status === 'stopped'
          ? []
          : [
              {
                kind: 'mismatch',
                system,
                detail: 'the cluster is stopped',
                fix: command('start', env.name),
              },
            ];
      if (env.status === 'stopped')
        return [
          {
            kind: 'mismatch',
            system,
            detail: 'the cluster runs, but the environment was stopped',
            fix: command('stop', env.name),
          },
        ];
      const ports = portDrift(env, info) ?? nodeDrift(env, info);
      if (ports)
        return [
          {
            kind: 'mismatch',
            system,
            detail: ports,
            fix: afterShell(deleteClusterCommand(system, env.name), repair),
          },
        ];
      return [];
    },
    holdings: () =>
      sites.flatMap((site) =>
        PROVIDERS.flatMap((system) =>
          [...(listed(site, system)?.values() ?? [])].map((c) => ({
            system,
            name: c.name,
            what: `${system} cluster "${c.name}"${on(site)}`,
          })),
        ),
      ),
  };
}
