// An environment's configuration as a version records it (what a change can change: provider,
// registrations, expiry, a preview's deployed head), and what differs between two. Pure.
import type { Environment } from './environment.js';
import { labelsText } from './labels.js';
import type { ProviderName } from './provider.js';

export interface EnvironmentConfig {
  provider: ProviderName;
  registerPortainer: boolean;
  haproxyRoute: boolean;
  servers: number;
  agents: number;
  /** Each node's CPUs and memory (MiB); null: no limit. */
  nodeCpus: number | null;
  nodeMemoryMib: number | null;
  expiresAt: string | null;
  pinned: boolean;
  /** The pull-request head the branch holds, for a preview. */
  deployedSha: string | null;
  /** Its labels, canonical (`team=a,tier=web`; '' for none). */
  labels: string;
}

export interface EnvironmentVersion {
  name: string;
  version: number;
  at: Date;
  actor: string | null;
  via: string | null;
  /** Where it was asked (a trigger source: cli, issue_comment, dashboard, monitor, …). */
  source: string;
  operationId: number | null;
  config: EnvironmentConfig;
}

export interface ConfigChange {
  field: keyof EnvironmentConfig;
  from: unknown;
  to: unknown;
}

/** The fields in the order they are told (a stored config's key order is the database's). */
const CONFIG_FIELDS: (keyof EnvironmentConfig)[] = [
  'provider',
  'registerPortainer',
  'haproxyRoute',
  'servers',
  'agents',
  'nodeCpus',
  'nodeMemoryMib',
  'expiresAt',
  'pinned',
  'deployedSha',
  'labels',
];

export function configOf(env: Environment): EnvironmentConfig {
  return {
    provider: env.provider,
    registerPortainer: env.registerPortainer,
    haproxyRoute: env.haproxyRoute,
    servers: env.servers,
    agents: env.agents,
    nodeCpus: env.nodeCpus,
    nodeMemoryMib: env.nodeMemoryMib,
    expiresAt: env.expiresAt?.toISOString() ?? null,
    pinned: env.pinned,
    deployedSha: env.deployed?.sha ?? null,
    labels: labelsText(env.labels),
  };
}

/**
 * A stored configuration read back: versions from before sizing was kept had one node each, from
 * before labels none, from before node sizes no limits.
 */
export const storedConfig = (c: Partial<EnvironmentConfig>): EnvironmentConfig => ({
  provider: c.provider ?? 'k3d',
  registerPortainer: c.registerPortainer ?? true,
  haproxyRoute: c.haproxyRoute ?? true,
  servers: c.servers ?? 1,
  agents: c.agents ?? 0,
  nodeCpus: c.nodeCpus ?? null,
  nodeMemoryMib: c.nodeMemoryMib ?? null,
  expiresAt: c.expiresAt ?? null,
  pinned: c.pinned ?? false,
  deployedSha: c.deployedSha ?? null,
  labels: c.labels ?? '',
});

/** What `after` changed of `before` (everything, for a first version). */
export function configChanges(
  before: EnvironmentConfig | null,
  after: EnvironmentConfig,
): ConfigChange[] {
  return CONFIG_FIELDS.filter((field) => before === null || before[field] !== after[field]).map(
    (field) => ({ field, from: before ? before[field] : null, to: after[field] }),
  );
}

/** Who and what a version records as its cause: the trigger that asked, the operation it made. */
export const versionBy = (
  trigger: { actor: string | null; via?: string | null; source: string },
  operationId: number | null,
) => ({
  actor: trigger.actor,
  via: trigger.via ?? null,
  source: trigger.source,
  operationId,
});

const shown = (value: unknown): string =>
  value === null || value === undefined || value === ''
    ? '–'
    : typeof value === 'string'
      ? value
      : String(value);

/** A change in words: `haproxyRoute true → false`; a first version lists what it was made with. */
export function describeChanges(changes: ConfigChange[], first: boolean): string {
  if (first) return `made: ${changes.map((c) => `${c.field} ${shown(c.to)}`).join(', ')}`;
  return changes.length
    ? changes.map((c) => `${c.field} ${shown(c.from)} → ${shown(c.to)}`).join(', ')
    : 'no change';
}
