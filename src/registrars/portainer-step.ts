// The `portainer` step: an Edge environment in Portainer (its site's own, or the devops side's),
// and the Edge Agent in the new cluster (namespace portainer-edge, secret portainer-edge-creds
// with edge-id/edge-key, as upstream).
import crypto from 'node:crypto';
import {
  PORTAINER_EDGE_NAMESPACE,
  PORTAINER_EDGE_SECRET,
  portainerEndpointName,
  wrap,
  type EnvName,
  type Environment,
} from '../domain/index.js';
import {
  listingView,
  placedViews,
  type Observation,
  type Read,
  type SystemView,
} from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import { edgeAgentObjects } from './edge-agent.js';
import { KubeClient, SecretData } from './kube.js';
import type { PortainerClient } from './portainer-client.js';
import type { Portainers } from './portainers.js';

/** `type` is Portainer's environment type: only Edge ones (4, 7) can be ours. */
export interface PortainerItem {
  id: number;
  name: string;
  type: number | null;
}
const EDGE_TYPES = [4, 7];
/** Upstream [PG] named endpoints without hyphens; an environment answers to that name too. */
const legacyName = (name: string): string => name.replace(/-/g, '');
const UNSET = 'PORTAINER_URL is not set';
const rowSkip = (env: Environment): string | null =>
  env.registerPortainer ? null : 'register_portainer is false for this environment';

/** Portainer's Edge environments, found by the environment's name or its legacy alias. */
export function portainerView(observation: Observation<PortainerItem>, where = ''): SystemView {
  return listingView('portainer', observation, {
    skip: rowSkip,
    assess: ({ env, recreate }, find) =>
      (find(portainerEndpointName(env.name)) ?? find(legacyName(env.name)))
        ? []
        : [{ kind: 'missing', detail: `no Portainer environment "${env.name}"`, fix: recreate }],
    what: (p) =>
      EDGE_TYPES.includes(p.type ?? 0)
        ? `Portainer environment "${p.name}" (#${p.id})${where}`
        : null,
    aliases: (row) => [legacyName(row)],
  });
}

export class PortainerStep implements StepHandler {
  readonly step = 'portainer' as const;
  constructor(
    private readonly portainers: Portainers,
    private readonly kubeconfigFor: (env: Environment) => Promise<string>,
    private readonly agentImage: string,
  ) {}

  skipReason(env: Environment): string | null {
    return this.portainers.of(env.site) ? rowSkip(env) : UNSET;
  }

  /** Every Portainer's Edge environments, each read apart. */
  async observe(read: Read): Promise<SystemView> {
    const list = async (portainer: PortainerClient) =>
      (await portainer.listEndpoints()).map((e) => ({
        id: e.Id,
        name: e.Name,
        type: e.Type ?? null,
      }));
    return placedViews(read, this.portainers, list, portainerView, 'Portainer', UNSET);
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    try {
      const portainer = this.need(env.site);
      const name = portainerEndpointName(env.name);
      const existing = await portainer.findEndpoint(name);
      // Read back after create: with EnforceEdgeID Portainer generates the Edge ID itself.
      const endpoint =
        existing ?? (await portainer.getEndpoint((await portainer.createEdgeEndpoint(name)).Id));
      if (!endpoint.EdgeKey)
        throw new Error(`Portainer returned environment #${endpoint.Id} without an EdgeKey`);
      const kube = await KubeClient.fromYaml(await this.kubeconfigFor(env));
      await kube.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: PORTAINER_EDGE_NAMESPACE },
      });
      const current = await kube.read(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: PORTAINER_EDGE_SECRET, namespace: PORTAINER_EDGE_NAMESPACE },
        },
        SecretData,
      );
      const knownId = current?.data?.['edge-id']
        ? Buffer.from(current.data['edge-id'], 'base64').toString('utf8')
        : null;
      // Portainer's Edge ID wins (generated when enforced, else recorded at the agent's first
      // poll, and kept when the cluster is recreated); an ID of our own only for a new endpoint.
      const edgeId = endpoint.EdgeID || knownId || crypto.randomUUID();
      // The EdgeKey is used verbatim: padding it once broke agent association upstream.
      for (const object of edgeAgentObjects({
        edgeId,
        edgeKey: endpoint.EdgeKey,
        image: this.agentImage,
      })) {
        await kube.apply(object);
      }
      const own = this.portainers.keyOf(env.site);
      return (
        `${existing ? 'Edge environment already present' : 'Edge environment created'} ` +
        `(#${endpoint.Id}${own ? ` in site ${own}'s Portainer` : ''}); agent deployed in ` +
        PORTAINER_EDGE_NAMESPACE
      );
    } catch (error) {
      throw wrap(`registering "${env.name}" in Portainer`, error);
    }
  }

  remove(ctx: StepContext): Promise<string> {
    return this.removeNamed(ctx.env.name, [this.need(ctx.env.site)]);
  }

  /** An orphan is removed from every Portainer that holds it. */
  prune(ctx: PruneContext): Promise<string> {
    const all = this.portainers.all().map((p) => p.value);
    if (all.length === 0) throw new Error(UNSET);
    return this.removeNamed(ctx.name, all);
  }

  private async removeNamed(name: EnvName, from: PortainerClient[]): Promise<string> {
    // The cluster (and the agent in it) is already gone: delete runs the cluster step first.
    // The legacy alias goes too.
    try {
      const names = [...new Set([portainerEndpointName(name), legacyName(name)])];
      const removed: number[] = [];
      for (const portainer of from)
        for (const name of names) {
          const endpoint = await portainer.findEndpoint(name);
          if (endpoint && (await portainer.deleteEndpoint(endpoint.Id)) === 'deleted')
            removed.push(endpoint.Id);
        }
      return removed.length
        ? `Edge environment #${removed.join(', #')} removed`
        : 'Edge environment already absent';
    } catch (error) {
      throw wrap(`removing "${name}" from Portainer`, error);
    }
  }

  private need(site: string): PortainerClient {
    const portainer = this.portainers.of(site);
    if (!portainer) throw new Error(UNSET);
    return portainer;
  }
}
