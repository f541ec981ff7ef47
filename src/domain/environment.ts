import { Failure } from './errors.js';
import { command } from './next-command.js';
import type { EnvName } from './env-name.js';
import type { ProviderName } from './provider.js';
import type { Site } from './sites.js';

/** What a site may hold, checked under the allocation lock as a row is inserted there. */
export type SiteLimits = Pick<Site, 'maxEnvironments' | 'maxCpus' | 'maxMemoryMib' | 'nodeSize'>;

/** Lifecycle status of an environment row (`clusters.status`). */
export const ENV_STATUSES = [
  'creating',
  'ready',
  'stopped',
  'failed',
  'deleting',
  'delete_failed',
] as const;
export type EnvStatus = (typeof ENV_STATUSES)[number];

/** One row of `clusters`: the upstream Kindler columns plus ours. */
/** A pull request's head an environment is rendered from. */
export interface Source {
  /** The repository holding the head: "owner/name". */
  repo: string;
  sha: string;
  /** Who pushed it (or labelled the pull request). */
  by: string | null;
}

export interface Environment {
  name: EnvName;
  provider: ProviderName;
  /** k3d only: the dedicated Docker network's subnet; null means the shared network (and kind). */
  subnet: string | null;
  nodePort: number;
  pfPort: number;
  httpPort: number;
  httpsPort: number;
  serverIp: string | null;
  status: EnvStatus;
  registerPortainer: boolean;
  haproxyRoute: boolean;
  /** The cluster's control-plane nodes (k3d servers, kind control-plane nodes), at least one. */
  servers: number;
  /** The cluster's worker nodes (k3d agents, kind workers). */
  agents: number;
  /** CPUs each node may use; null: no limit. */
  nodeCpus: number | null;
  /** Memory each node may use, MiB; null: no limit. */
  nodeMemoryMib: number | null;
  requestedBy: string | null;
  /** Where the request came from: an issue or PR URL, or "cli". */
  sourceUrl: string | null;
  expiresAt: Date | null;
  pinned: boolean;
  labels: Record<string, string>;
  /** The Docker host (site) its cluster runs on: `local` unless KINDLER_SITES placed it. */
  site: string;
  /**
   * Where the branch is rendered from: a pull request's head (`deploy/` of commit `sha` in
   * `repo`, the newest asked for, pushed by `by`), or null for the templates.
   */
  source: Source | null;
  /** What the branch holds since when: the head rendered onto it and the tree id of its deploy/. */
  deployed: { sha: string; tree: string; at: Date } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a caller supplies to create an environment; ports and subnet are allocated by the store. */
export interface NewEnvironment {
  name: EnvName;
  provider: ProviderName;
  registerPortainer?: boolean;
  haproxyRoute?: boolean;
  servers?: number;
  agents?: number;
  nodeCpus?: number | null;
  nodeMemoryMib?: number | null;
  requestedBy?: string | null;
  sourceUrl?: string | null;
  expiresAt?: Date | null;
  pinned?: boolean;
  labels?: Record<string, string>;
  source?: Source | null;
  /** The site placement chose (default `local`), and what it may hold (checked as it is taken). */
  site?: string;
  siteLimits?: SiteLimits | null;
}

/**
 * How many nodes one environment's cluster may have: every node is a container on the one Docker
 * host, so one request is bounded (a principal's share of the host, like its environment count).
 */
export const NODE_LIMITS = { servers: { min: 1, max: 5 }, agents: { min: 0, max: 9 } } as const;

/** Why a node count is refused (`servers must be 1–5`), or null when it is within bounds. */
export function checkNodeCount(role: 'servers' | 'agents', raw: string | number): string | null {
  const { min, max } = NODE_LIMITS[role];
  const n = typeof raw === 'number' ? raw : /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= min && n <= max
    ? null
    : `--${role} takes a whole number from ${min} to ${max}, not "${String(raw).slice(0, 20)}"`;
}

/** The expiry an extension by `ms` gives: from the current one, or from now when it has passed. */
export function extendedExpiry(expiresAt: Date | null, ms: number, now = new Date()): Date {
  const base = expiresAt && expiresAt > now ? expiresAt : now;
  return new Date(base.getTime() + ms);
}

/** The refusal for a name no environment has, and where to look instead. */
export const notFound = (name: string): Failure =>
  new Failure('not_found', `environment "${name}" does not exist`, command('list'));

/**
 * The refusal for a name that is taken. With the environment's last operation known, the next
 * command fits its state: retry an unfinished one, otherwise look at it.
 */
export function alreadyExists(env: Environment, unfinished = env.status === 'failed'): Failure {
  const base =
    `environment "${env.name}" already exists (${env.provider}, ` +
    `status ${env.status}, created ${env.createdAt.toISOString()})`;
  if (unfinished)
    return new Failure(
      'already_exists',
      `${base}; its last operation did not finish`,
      command('retry', env.name),
    );
  return new Failure(
    'already_exists',
    base,
    env.status === 'ready' || env.status === 'creating'
      ? command('status', env.name)
      : command('delete', env.name),
  );
}
