// A cluster provider (kind's own design): a small interface over the k3d or kind CLI. create and
// delete are idempotent, like `rm -f`; list/get report what really runs, ports included.
import { z } from 'zod';
import type { EnvName, ProviderName } from '../domain/index.js';
import { onPath, run, type RunOptions } from '../system/exec.js';
import { unexpectedAnswer } from '../system/parse.js';

export interface ClusterSpec {
  name: EnvName;
  httpPort: number;
  httpsPort: number;
  /** k3d: the dedicated network's subnet (network `k3d-<name>`); kind: always null. */
  subnet: string | null;
  nodePort: number;
  /** Control-plane nodes (k3d servers), at least one. */
  servers: number;
  /** Worker nodes (k3d agents). */
  agents: number;
  /** What each node may use: CPUs and MiB; null: no limit. */
  nodeCpus: number | null;
  nodeMemoryMib: number | null;
}

/** What a resize needs: the cluster, its nodes, the limits they get. */
export type NodeSpec = Pick<
  ClusterSpec,
  'name' | 'servers' | 'agents' | 'nodeCpus' | 'nodeMemoryMib'
>;

export interface PortMapping {
  host: number;
  container: number;
}

/**
 * Docker's port bindings, `{"80/tcp": [{"HostPort": "18090"}]}`, as k3d and `docker inspect` show
 * them.
 */
export type PortBindingsValue = Record<string, { HostPort?: string | undefined }[] | null>;

/**
 * Where `value` is not port bindings, and why; null when it is. Checked by hand: a check reads a
 * load balancer's bindings for each of thousands of clusters, and a schema library's first parse
 * of them all (46 ms at 5,000) cost more than the rest of the listing.
 */
function bindingsProblem(value: unknown): { path: string[]; message: string } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { path: [], message: 'expected an object' };
  for (const [port, binds] of Object.entries(value)) {
    if (binds === null) continue;
    if (!Array.isArray(binds)) return { path: [port], message: 'expected an array or null' };
    for (const [i, bind] of binds.entries()) {
      if (typeof bind !== 'object' || bind === null)
        return { path: [port, String(i)], message: 'expected an object' };
      const hostPort = (bind as { HostPort?: unknown }).HostPort;
      if (hostPort !== undefined && typeof hostPort !== 'string')
        return { path: [port, String(i), 'HostPort'], message: 'expected a string' };
    }
  }
  return null;
}

/** `value` as port bindings, or an error saying where it is not (as parseAnswer says it). */
export function readPortBindings(value: unknown, who: string): PortBindingsValue {
  const problem = bindingsProblem(value);
  if (!problem) return value as PortBindingsValue;
  throw unexpectedAnswer(who, problem.path, problem.message);
}

export const PortBindings = z.unknown().transform((value, ctx): PortBindingsValue => {
  const problem = bindingsProblem(value);
  if (!problem) return value as PortBindingsValue;
  ctx.addIssue({ code: 'custom', ...problem });
  return z.NEVER;
});

/** The host ports published for each container port, leaving out the API server's (6443). */
export function publishedPorts(bindings: PortBindingsValue): PortMapping[] {
  return Object.entries(bindings).flatMap(([key, binds]) => {
    const container = Number.parseInt(key, 10);
    if (container === 6443) return []; // the API server port the CLI picks itself
    return (binds ?? [])
      .filter((b) => b.HostPort)
      .map((b) => ({ host: Number(b.HostPort), container }));
  });
}

export interface ClusterInfo {
  name: string;
  provider: ProviderName;
  running: boolean;
  ports: PortMapping[];
  /** Its nodes by role, when the listing tells them. */
  nodes?: { servers: number; agents: number };
}

export interface Provider {
  readonly name: ProviderName;
  /** The commands it runs (checked on PATH before an environment is recorded). */
  readonly requires: readonly string[];
  list(signal?: AbortSignal): Promise<ClusterInfo[]>;
  get(name: string, signal?: AbortSignal): Promise<ClusterInfo | null>;
  create(spec: ClusterSpec, signal?: AbortSignal): Promise<'created' | 'exists'>;
  delete(name: EnvName, signal?: AbortSignal): Promise<'deleted' | 'absent'>;
  /**
   * Gives the cluster's node containers the limits `spec` sets (`docker update`), as they run;
   * `absent` when there is no such cluster, `unlimited` when the spec sets none it applies.
   */
  resize(spec: NodeSpec, signal?: AbortSignal): Promise<'resized' | 'unlimited' | 'absent'>;
  /** Halts the cluster's containers, keeping them; a halted one stays halted. */
  stop(name: EnvName, signal?: AbortSignal): Promise<'stopped' | 'absent'>;
  /** Runs the halted containers again and waits for the server; a running one keeps running. */
  start(name: EnvName, signal?: AbortSignal): Promise<'started' | 'absent'>;
  /** The cluster's kubeconfig YAML (context `<provider>-<name>`). Never logged. */
  kubeconfig(name: EnvName, signal?: AbortSignal): Promise<string>;
}

export interface CliSettings {
  timeoutMs: number;
  k3dImage: string;
  kindNodeImage: string;
  /** kind `networking.apiServerAddress`. */
  kindApiServerAddress: string;
  bins?: { k3d?: string; kind?: string; docker?: string };
  /** What every child adds to its environment: the site's DOCKER_HOST or DOCKER_CONTEXT. */
  env?: Record<string, string>;
}

/** What the k3d and kind providers share: their CLI (as configured) and Docker beside it. */
export abstract class CliProvider {
  abstract readonly name: ProviderName;
  constructor(protected readonly settings: CliSettings) {}

  protected get bin(): string {
    return this.settings.bins?.[this.name] ?? this.name;
  }
  protected get docker(): string {
    return this.settings.bins?.docker ?? 'docker';
  }
  /** The commands that must be on PATH for this provider to work. */
  get requires(): readonly string[] {
    return [this.bin, this.docker];
  }
}

/**
 * `docker update` of `nodes` to the limits given (CPUs; memory with its swap, so a node never
 * swaps past it); `unlimited` when neither is set.
 */
export async function updateNodes(
  docker: string,
  nodes: string[],
  limits: { cpus: number | null; memoryMib: number | null },
  options: RunOptions,
): Promise<'resized' | 'unlimited'> {
  const flags = [
    ...(limits.cpus === null ? [] : ['--cpus', String(limits.cpus)]),
    ...(limits.memoryMib === null
      ? []
      : ['--memory', `${limits.memoryMib}m`, '--memory-swap', `${limits.memoryMib}m`]),
  ];
  if (!flags.length || !nodes.length) return 'unlimited';
  await run(docker, ['update', ...flags, ...nodes], options);
  return 'resized';
}

/** Why `provider` cannot run here (a command it needs is not on PATH), or null when it can. */
export function missingCommands(provider: Provider): string | null {
  const missing = provider.requires.filter((command) => !onPath(command));
  if (!missing.length) return null;
  const them = missing.length > 1 ? 'them' : 'it';
  return (
    `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed here ` +
    `(not found on PATH): a ${provider.name} environment ` +
    `needs ${provider.requires.join(' and ')}. ` +
    `To resolve, install ${missing.join(' and ')} and put ${them} on PATH; nothing was recorded`
  );
}
