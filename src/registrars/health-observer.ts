// Reads what an environment's health is made of, one observation per system as the consistency
// check does: Argo CD's Applications listed once, Portainer's endpoints listed once, and each ready
// environment's app probed through its entry (a few at a time, each bounded in time).
import {
  argoApplicationName,
  argoPart,
  portainerEndpointName,
  portainerPart,
  type Environment,
  type HealthPart,
} from '../domain/index.js';
import { z } from 'zod';
import type { KubeClient } from './kube.js';
import type { Portainers } from './portainers.js';
import type { ReadinessProbe } from './readiness.js';

const Application = z.object({
  metadata: z.object({ name: z.string() }),
  status: z
    .object({
      sync: z.object({ status: z.string().optional() }).optional(),
      health: z.object({ status: z.string().optional() }).optional(),
    })
    .optional(),
});

export interface HealthSources {
  argo: { devops: () => Promise<KubeClient>; namespace: string } | null;
  /** Each site's Portainer (or the devops side's): an environment's agent checks in there. */
  portainers: Portainers;
  probe: ReadinessProbe;
  /** App probes at once. */
  concurrency?: number;
}

type Listing<T> = { ok: true; items: T } | { ok: false; reason: string } | null;

const listed = async <T>(list: (() => Promise<T>) | null): Promise<Listing<T>> => {
  if (!list) return null;
  try {
    return { ok: true, items: await list() };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
};

export class HealthObserver {
  constructor(private readonly sources: HealthSources) {}

  /** The parts of each environment's health (by name), observed now. */
  async observe(envs: Environment[], now: Date): Promise<Map<string, HealthPart[]>> {
    const { argo, portainers } = this.sources;
    const places = portainers.all();
    const [apps, lists, probes] = await Promise.all([
      listed(
        argo &&
          (async () =>
            new Map(
              (
                await (
                  await argo.devops()
                ).list(Application, 'argoproj.io/v1alpha1', 'Application', argo.namespace)
              ).map((a) => [
                a.metadata.name,
                {
                  sync: a.status?.sync?.status ?? 'Unknown',
                  health: a.status?.health?.status ?? 'Unknown',
                },
              ]),
            )),
      ),
      Promise.all(
        places.map(async ({ site, value }) => {
          const seen = await listed(
            async () =>
              new Map(
                (await value.listEndpoints()).map((e) => [
                  e.Name,
                  { lastCheckIn: e.LastCheckInDate ?? 0, intervalS: e.EdgeCheckinInterval ?? 0 },
                ]),
              ),
          );
          return [site, seen] as const;
        }),
      ).then((all) => new Map(all)),
      this.probeAll(this.sources.probe.enabled ? envs.filter((e) => e.status === 'ready') : []),
    ]);
    const parts = new Map<string, HealthPart[]>();
    for (const env of envs) {
      const app = argoApplicationName(env.name);
      const place = portainers.keyOf(env.site);
      const endpoints = place === undefined ? null : (lists.get(place) ?? null);
      parts.set(env.name, [
        apps === null
          ? { system: 'argocd', state: 'skipped', detail: 'Argo CD is not configured' }
          : apps.ok
            ? argoPart(apps.items.get(app) ?? null, app)
            : { system: 'argocd', state: 'unknown', detail: `could not be read: ${apps.reason}` },
        !env.registerPortainer || endpoints === null
          ? { system: 'portainer', state: 'skipped', detail: 'not registered in Portainer' }
          : endpoints.ok
            ? portainerPart(endpoints.items.get(portainerEndpointName(env.name)) ?? null, now)
            : {
                system: 'portainer',
                state: 'unknown',
                detail: `could not be read: ${endpoints.reason}`,
              },
        probes.get(env.name) ?? {
          system: 'app',
          state: 'skipped',
          detail: `not probed (${env.status})`,
        },
      ]);
    }
    return parts;
  }

  /** Each environment's app, probed `concurrency` at a time. */
  private async probeAll(envs: Environment[]): Promise<Map<string, HealthPart>> {
    const out = new Map<string, HealthPart>();
    const queue = [...envs];
    const signal = AbortSignal.timeout(60_000);
    const one = async () => {
      for (let env = queue.shift(); env; env = queue.shift()) {
        const seen = await this.sources.probe.probeOnce(env, signal);
        out.set(env.name, {
          system: 'app',
          state: seen.ok ? 'healthy' : 'degraded',
          detail: seen.text,
          latencyMs: seen.ms,
        });
      }
    };
    await Promise.all(Array.from({ length: this.sources.concurrency ?? 16 }, one));
    return out;
  }
}
