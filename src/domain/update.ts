// What an update of an environment's configuration does to its systems: only the steps the change
// needs, each as an ensure, a removal, or (the cluster, for another provider or node count) a
// recreation, or (its nodes' limits) a resize. Pure: the engine records the plan's skipped steps,
// the step loop reads the actions.
import type { ProviderName } from './provider.js';
import { Failure } from './errors.js';
import { labelsFromText, labelsText, withLabels } from './labels.js';
import { formatMemory } from './sizing.js';
import { configChanges, type ConfigChange, type EnvironmentConfig } from './version.js';

/** What an update asks to change; absent fields stay as they are. */
export interface ConfigPatch {
  provider?: ProviderName;
  registerPortainer?: boolean;
  haproxyRoute?: boolean;
  servers?: number;
  agents?: number;
  nodeCpus?: number | null;
  nodeMemoryMib?: number | null;
  /** A time to live from now (the expiry becomes now + ttl); null: no expiry, pinned. */
  ttlMs?: number | null;
  /** A pull request's head to render onto the branch again (a rollback of a preview). */
  deployedSha?: string;
  /** Labels to set (a value) or remove (null); the others are kept. */
  labels?: Record<string, string | null>;
}

/** An update as its operation records it: the configuration before and the one asked for. */
export interface OperationChange {
  from: EnvironmentConfig;
  to: EnvironmentConfig;
  /** The version a rollback restores, when the update is one. */
  rollbackTo?: number;
}

/** `resize`: the cluster's nodes get new limits as they run (docker update), nothing else. */
export type StepAction = 'ensure' | 'remove' | 'recreate' | 'resize';
/** The steps an update may run (its record is done when it is asked). */
export type UpdateStep = 'branch' | 'cluster' | 'portainer' | 'argocd' | 'haproxy' | 'ready';

export interface UpdatePlan {
  changes: ConfigChange[];
  /** What each step does; a step absent here is skipped (nothing to change). */
  actions: Partial<Record<UpdateStep, StepAction>>;
  /** The cluster is deleted and made again: its workloads and volumes are lost. */
  recreates: boolean;
}

/** The configuration `patch` asks for, starting from `from`, at `now`. */
export function patched(from: EnvironmentConfig, patch: ConfigPatch, now: Date): EnvironmentConfig {
  const ttl =
    patch.ttlMs === undefined
      ? {}
      : patch.ttlMs === null
        ? { expiresAt: null, pinned: true }
        : { expiresAt: new Date(now.getTime() + patch.ttlMs).toISOString(), pinned: false };
  const pick = <K extends keyof ConfigPatch & keyof EnvironmentConfig>(key: K) =>
    patch[key] === undefined ? {} : { [key]: patch[key] };
  return {
    ...from,
    ...pick('provider'),
    ...pick('registerPortainer'),
    ...pick('haproxyRoute'),
    ...pick('servers'),
    ...pick('agents'),
    ...pick('nodeCpus'),
    ...pick('nodeMemoryMib'),
    ...pick('deployedSha'),
    ...ttl,
    ...labelChange(from.labels, patch),
  };
}

/** The labels a patch leaves, changed one by one; past MAX_LABELS refused. */
function labelChange(from: string, patch: ConfigPatch): { labels?: string } {
  if (!patch.labels) return {};
  const changed = withLabels(labelsFromText(from), patch.labels);
  if ('message' in changed) throw new Failure('invalid_input', changed.message);
  return { labels: labelsText(changed.labels) };
}

/** The steps that take `from` to `to`. An expiry or labels alone touch no system. */
export function planUpdate(from: EnvironmentConfig, to: EnvironmentConfig): UpdatePlan {
  const changes = configChanges(from, to);
  const changed = new Set(changes.map((c) => c.field));
  // k3d sets a node's memory as it makes it (the node's own view of it too): a change remakes it.
  const recreates =
    changed.has('provider') ||
    changed.has('servers') ||
    changed.has('agents') ||
    (to.provider === 'k3d' && changed.has('nodeMemoryMib'));
  const actions: Partial<Record<UpdateStep, StepAction>> = {};
  if (!recreates && (changed.has('nodeCpus') || changed.has('nodeMemoryMib')))
    actions.cluster = 'resize';
  // The manifests are rendered with the provider (KINDLER_PROVIDER), a preview's from its head.
  if (changed.has('deployedSha') || changed.has('provider')) actions.branch = 'ensure';
  if (recreates) actions.cluster = 'recreate';
  // A new cluster needs its agent, its Argo CD cluster secret and its route again.
  if (changed.has('registerPortainer'))
    actions.portainer = to.registerPortainer ? 'ensure' : 'remove';
  else if (recreates && to.registerPortainer) actions.portainer = 'ensure';
  if (recreates) actions.argocd = 'ensure';
  if (changed.has('haproxyRoute')) actions.haproxy = to.haproxyRoute ? 'ensure' : 'remove';
  else if (recreates && to.haproxyRoute) actions.haproxy = 'ensure';
  // What serves the app changed: wait until it answers again.
  if (recreates || actions.branch || actions.haproxy === 'ensure') actions.ready = 'ensure';
  return { changes, actions, recreates };
}

/** How a recreation is said before it is done, and why it needs a confirmation. */
export function recreationReason(from: EnvironmentConfig, to: EnvironmentConfig): string {
  const parts: string[] = [];
  if (from.provider !== to.provider) parts.push(`the provider ${from.provider} → ${to.provider}`);
  if (from.servers !== to.servers) parts.push(`servers ${from.servers} → ${to.servers}`);
  if (from.agents !== to.agents) parts.push(`agents ${from.agents} → ${to.agents}`);
  if (from.nodeMemoryMib !== to.nodeMemoryMib && to.provider === 'k3d')
    parts.push(
      `node memory ${memoryText(from.nodeMemoryMib)} → ${memoryText(to.nodeMemoryMib)} ` +
        '(k3d sets it as it makes a node)',
    );
  return parts.join(', ');
}

const memoryText = (mib: number | null): string => (mib === null ? 'unlimited' : formatMemory(mib));
