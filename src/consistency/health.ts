// Each environment's health, observed by the reconcile loop and kept as one document (state
// `health:latest`): every surface reads it in one query, and each environment keeps the time its
// health last changed. What changed in a pass is returned, for the alerts.
import { z } from 'zod';
import {
  HEALTH_STATES,
  MANAGEMENT_CLUSTER,
  deriveHealth,
  type EnvironmentHealth,
  type Health,
} from '../domain/index.js';
import type { HealthObserver } from '../registrars/health-observer.js';
import { stateKey } from '../store/state-key.js';
import type { Store } from '../store/store.js';

const Part = z.object({
  system: z.enum(['argocd', 'portainer', 'app']),
  state: z.enum([...HEALTH_STATES, 'skipped']),
  detail: z.string(),
  latencyMs: z.number().optional(),
});
const Stored = z.object({
  health: z.enum(HEALTH_STATES),
  reason: z.string(),
  since: z.string(),
  checkedAt: z.string(),
  parts: z.array(Part),
});

export const HEALTH = stateKey('health:latest', z.record(z.string(), Stored));

export interface HealthChange {
  name: string;
  from: Health | null;
  to: Health;
  reason: string;
}

export interface HealthDeps {
  store: Store;
  health: HealthObserver;
}

/** Observes every environment's health now, keeps it, and says what changed. */
export async function observeHealth(
  rt: HealthDeps,
  now = new Date(),
): Promise<{ health: Record<string, EnvironmentHealth>; changes: HealthChange[] }> {
  const envs = (await rt.store.listEnvironments()).filter((e) => e.name !== MANAGEMENT_CLUSTER);
  const [parts, active, before] = await Promise.all([
    rt.health.observe(envs, now),
    rt.store.listOperations({ status: ['queued', 'running'], limit: 10_000 }),
    rt.store.getState(HEALTH),
  ]);
  const busy = new Set(active.map((op) => op.envName as string));
  const health: Record<string, EnvironmentHealth> = {};
  const changes: HealthChange[] = [];
  for (const env of envs) {
    const mine = parts.get(env.name) ?? [];
    const { health: state, reason } = deriveHealth(env, mine, busy.has(env.name));
    const prior = before?.[env.name];
    const changed = prior?.health !== state;
    health[env.name] = {
      health: state,
      reason,
      since: changed ? now.toISOString() : prior.since,
      checkedAt: now.toISOString(),
      parts: mine,
    };
    if (changed) changes.push({ name: env.name, from: prior?.health ?? null, to: state, reason });
  }
  await rt.store.setState(HEALTH, health);
  return { health, changes };
}

/**
 * The health kept for every environment (empty before the loop's first pass), or for `names`
 * alone: then only their entries are read and checked, not the whole document.
 */
export async function keptHealth(
  store: Store,
  names?: string[],
): Promise<Record<string, EnvironmentHealth>> {
  if (!names) return (await store.getState(HEALTH)) ?? {};
  return healthEntries(await store.getStateEntries(HEALTH.name, names));
}

/** One stored entry of the health document, checked: null when there is none or it does not fit. */
export function healthEntry(value: unknown): EnvironmentHealth | null {
  if (value === null || value === undefined) return null;
  const parsed = Stored.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Stored entries of the health document, each checked; one that does not fit is left out. */
export function healthEntries(raw: Record<string, unknown>): Record<string, EnvironmentHealth> {
  const out: Record<string, EnvironmentHealth> = {};
  for (const [name, value] of Object.entries(raw)) {
    const parsed = Stored.safeParse(value);
    if (parsed.success) out[name] = parsed.data;
  }
  return out;
}
