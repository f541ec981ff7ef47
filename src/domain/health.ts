// How an environment is, beyond how its last operation ended: what Argo CD says of its Application,
// whether its Portainer Edge agent still checks in, and whether its app answers through the
// gateway — each a part, the environment's health the worst of them. Pure.
import type { Environment } from './environment.js';

export const HEALTH_STATES = ['healthy', 'progressing', 'degraded', 'unknown'] as const;
export type Health = (typeof HEALTH_STATES)[number];

export interface HealthPart {
  system: 'argocd' | 'portainer' | 'app';
  /** `skipped`: not configured, or not this environment's (no Portainer registration). */
  state: Health | 'skipped';
  detail: string;
  /** The app probe's answer time. */
  latencyMs?: number | undefined;
}

export interface EnvironmentHealth {
  health: Health;
  reason: string;
  /** When `health` last changed (ISO). */
  since: string;
  checkedAt: string;
  parts: HealthPart[];
}

/** An Argo CD Application's sync and health status, as a part. */
export function argoPart(app: { sync: string; health: string } | null, name: string): HealthPart {
  if (!app) return { system: 'argocd', state: 'progressing', detail: `${name} not created yet` };
  const said = `${name} ${app.sync}/${app.health}`;
  const state: Health =
    app.health === 'Degraded' || app.health === 'Missing'
      ? 'degraded'
      : app.health === 'Healthy' && app.sync === 'Synced'
        ? 'healthy'
        : app.health === 'Progressing' || app.health === 'Suspended' || app.sync === 'OutOfSync'
          ? 'progressing'
          : 'unknown';
  return { system: 'argocd', state, detail: said };
}

/**
 * A Portainer Edge environment's agent, as a part: degraded when its last check-in is older than
 * three check-in intervals (and a minute), progressing until the agent first checks in.
 */
export function portainerPart(
  endpoint: { lastCheckIn: number; intervalS: number } | null,
  now: Date,
): HealthPart {
  if (!endpoint) return { system: 'portainer', state: 'degraded', detail: 'no Edge environment' };
  if (endpoint.lastCheckIn <= 0)
    return { system: 'portainer', state: 'progressing', detail: 'agent not checked in yet' };
  const ageS = Math.max(0, Math.round(now.getTime() / 1000 - endpoint.lastCheckIn));
  const interval = endpoint.intervalS > 0 ? endpoint.intervalS : 5;
  return ageS > Math.max(60, 3 * interval)
    ? {
        system: 'portainer',
        state: 'degraded',
        detail: `agent last checked in ${ageS} s ago (every ${interval} s expected)`,
      }
    : { system: 'portainer', state: 'healthy', detail: `agent checked in ${ageS} s ago` };
}

const RANK: Record<Health, number> = { degraded: 3, progressing: 2, unknown: 1, healthy: 0 };

/** The environment's health from its parts and its row (an operation under way, a failure). */
export function deriveHealth(
  env: Pick<Environment, 'status'>,
  parts: HealthPart[],
  busy: boolean,
): { health: Health; reason: string } {
  if (busy || env.status === 'creating' || env.status === 'deleting')
    return { health: 'progressing', reason: 'an operation is under way' };
  if (env.status === 'failed' || env.status === 'delete_failed')
    return { health: 'degraded', reason: 'its last operation failed' };
  if (env.status === 'stopped') return { health: 'unknown', reason: 'stopped' };
  const seen = parts.filter((p): p is HealthPart & { state: Health } => p.state !== 'skipped');
  if (seen.length === 0) return { health: 'unknown', reason: 'nothing to observe is configured' };
  const worst = seen.reduce((a, b) => (RANK[b.state] > RANK[a.state] ? b : a));
  if (worst.state === 'healthy')
    return { health: 'healthy', reason: seen.map((p) => `${p.system}: ${p.detail}`).join('; ') };
  return { health: worst.state, reason: `${worst.system}: ${worst.detail}` };
}
