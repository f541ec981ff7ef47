// k3d through its CLI. With an allocated subnet the Docker network `k3d-<name>` is created first
// (as upstream does), then the cluster joins it with the allocated ports on the load balancer.
import { createHash } from 'node:crypto';
import { gatewayOf, type EnvName } from '../domain/index.js';
import { run, runAllowingFailure, type RunOptions } from '../system/exec.js';
import { z } from 'zod';
import { parseJsonAnswer, unexpectedAnswer } from '../system/parse.js';
import {
  CliProvider,
  readPortBindings,
  type PortBindingsValue,
  publishedPorts,
  updateNodes,
  type ClusterInfo,
  type NodeSpec,
  type ClusterSpec,
  type Provider,
} from './provider.js';

/** `k3d cluster list -o json`: what is read of it. */
interface K3dCluster {
  name: string;
  serversRunning: number | undefined;
  serversCount: number | undefined;
  agentsCount: number | undefined;
  /** The load balancer's port mappings (the other nodes' are not read). */
  loadbalancerPorts: PortBindingsValue[];
}

/**
 * The listing checked field by field, its load balancers' bindings too (a check reads thousands of
 * clusters: a schema library's parse of every node cost more than the rest of the listing); what
 * does not fit is named.
 */
function k3dClusters(text: string): K3dCluster[] {
  const value = parseJsonAnswer(z.array(z.unknown()), text || '[]', 'k3d cluster list');
  const unexpected = (at: string, what: string) =>
    unexpectedAnswer('k3d cluster list', at.split('.'), what);
  const count = (v: unknown, at: string): number | undefined => {
    if (v === undefined || typeof v === 'number') return v;
    throw unexpected(at, 'expected a number');
  };
  return value.map((raw, i) => {
    const c = raw as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null) throw unexpected(`${i}`, 'expected an object');
    if (typeof c.name !== 'string') throw unexpected(`${i}.name`, 'expected a string');
    const nodes = c.nodes ?? [];
    if (!Array.isArray(nodes)) throw unexpected(`${i}.nodes`, 'expected an array');
    const loadbalancerPorts = nodes.flatMap((n: { role?: unknown; portMappings?: unknown }, j) => {
      if (n?.role !== 'loadbalancer' || n.portMappings == null) return [];
      return [readPortBindings(n.portMappings, `k3d cluster list (${i}.nodes.${j})`)];
    });
    return {
      name: c.name,
      serversRunning: count(c.serversRunning, `${i}.serversRunning`),
      serversCount: count(c.serversCount, `${i}.serversCount`),
      agentsCount: count(c.agentsCount, `${i}.agentsCount`),
      loadbalancerPorts,
    };
  });
}

export class K3dProvider extends CliProvider implements Provider {
  readonly name = 'k3d' as const;

  private opts(signal?: AbortSignal): RunOptions {
    return {
      timeoutMs: this.settings.timeoutMs,
      env: { ...this.settings.env, LOG_COLORS: 'false' },
      ...(signal ? { signal } : {}),
    };
  }

  async list(signal?: AbortSignal): Promise<ClusterInfo[]> {
    const { stdout } = await run(this.bin, ['cluster', 'list', '-o', 'json'], this.opts(signal));
    return k3dClusters(stdout).map((e) => ({
      name: e.name,
      provider: 'k3d',
      running: (e.serversRunning ?? 0) > 0,
      ...(e.serversCount !== undefined
        ? { nodes: { servers: e.serversCount, agents: e.agentsCount ?? 0 } }
        : {}),
      ports: e.loadbalancerPorts.flatMap(publishedPorts),
    }));
  }

  async get(name: string, signal?: AbortSignal): Promise<ClusterInfo | null> {
    return (await this.list(signal)).find((c) => c.name === name) ?? null;
  }

  async create(spec: ClusterSpec, signal?: AbortSignal): Promise<'created' | 'exists'> {
    if (await this.get(spec.name, signal)) return 'exists';
    const network = `k3d-${spec.name}`;
    if (spec.subnet) await this.ensureNetwork(network, spec.subnet, signal);
    await run(
      this.bin,
      [
        'cluster',
        'create',
        spec.name,
        '--image',
        this.settings.k3dImage,
        ...(spec.subnet ? ['--network', network] : []),
        '--servers',
        String(spec.servers),
        '--agents',
        String(spec.agents),
        // k3d limits a node's memory as it makes it, and shows the node that much (its meminfo).
        ...(spec.nodeMemoryMib === null
          ? []
          : [
              '--servers-memory',
              `${spec.nodeMemoryMib}m`,
              ...(spec.agents ? ['--agents-memory', `${spec.nodeMemoryMib}m`] : []),
            ]),
        '--port',
        `${spec.httpPort}:80@loadbalancer`,
        '--port',
        `${spec.httpsPort}:443@loadbalancer`,
        '--wait',
      ],
      this.opts(signal),
    );
    return 'created';
  }

  /** CPUs through `docker update` of its server and agent containers; memory is k3d's own. */
  async resize(spec: NodeSpec, signal?: AbortSignal): Promise<'resized' | 'unlimited' | 'absent'> {
    if (!(await this.get(spec.name, signal))) return 'absent';
    const nodes = [
      ...Array.from({ length: spec.servers }, (_, i) => `k3d-${spec.name}-server-${i}`),
      ...Array.from({ length: spec.agents }, (_, i) => `k3d-${spec.name}-agent-${i}`),
    ];
    return updateNodes(
      this.docker,
      nodes,
      { cpus: spec.nodeCpus, memoryMib: null },
      this.opts(signal),
    );
  }

  async stop(name: EnvName, signal?: AbortSignal): Promise<'stopped' | 'absent'> {
    if (!(await this.get(name, signal))) return 'absent';
    await run(this.bin, ['cluster', 'stop', name], this.opts(signal));
    return 'stopped';
  }

  async start(name: EnvName, signal?: AbortSignal): Promise<'started' | 'absent'> {
    if (!(await this.get(name, signal))) return 'absent';
    // --wait (k3d's default) returns once the server and the load balancer are up.
    await run(this.bin, ['cluster', 'start', name, '--wait'], this.opts(signal));
    return 'started';
  }

  async delete(name: EnvName, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
    const existed = (await this.get(name, signal)) !== null;
    if (existed) await run(this.bin, ['cluster', 'delete', name], this.opts(signal));
    // The dedicated network outlives `k3d cluster delete`; absent is fine.
    const net = await runAllowingFailure(
      this.docker,
      ['network', 'rm', `k3d-${name}`],
      this.opts(signal),
    );
    if (net.exitCode !== 0 && !/not found|No such network/i.test(net.stderr)) {
      throw new Error(
        `removing Docker network "k3d-${name}": docker ` +
          `exited ${net.exitCode}: ${net.stderr.trim()}`,
      );
    }
    return existed ? 'deleted' : 'absent';
  }

  async kubeconfig(name: EnvName, signal?: AbortSignal): Promise<string> {
    const { stdout } = await run(this.bin, ['kubeconfig', 'get', name], this.opts(signal));
    return stdout.replace(/^---\s*\n/, '');
  }

  private async ensureNetwork(
    network: string,
    subnet: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const inspect = await runAllowingFailure(
      this.docker,
      ['network', 'inspect', network],
      this.opts(signal),
    );
    if (inspect.exitCode === 0) return;
    await run(
      this.docker,
      [
        'network',
        'create',
        network,
        '--subnet',
        subnet,
        '--gateway',
        gatewayOf(subnet),
        '--opt',
        `com.docker.network.bridge.name=${bridgeName(network)}`,
      ],
      this.opts(signal),
    );
  }
}

/**
 * Upstream names the bridge br-k3d-<name>; Linux allows 15 characters, so long names are hashed.
 */
export function bridgeName(network: string): string {
  const plain = `br-${network}`;
  return plain.length <= 15
    ? plain
    : `br-k3d-${createHash('sha256').update(network).digest('hex').slice(0, 8)}`;
}
