// kind through its CLI, with a generated cluster config on stdin: the allocated ports become
// extraPortMappings 80→http and 443→https on the control-plane node.
import { z } from 'zod';
import type { EnvName } from '../domain/index.js';
import { renderKindConfig } from './kind-config.js';
import { run, runAllowingFailure, type RunOptions } from '../system/exec.js';
import { parseJsonAnswer } from '../system/parse.js';
import { CliProvider, PortBindings, publishedPorts, updateNodes } from './provider.js';
import type { ClusterInfo, ClusterSpec, NodeSpec, Provider } from './provider.js';

/** What `docker inspect` says of a node container, in the format asked for. */
const NodeState = z.object({ running: z.boolean(), ports: PortBindings.nullable() });

export class KindProvider extends CliProvider implements Provider {
  readonly name = 'kind' as const;

  private opts(signal?: AbortSignal, input?: string): RunOptions {
    return {
      timeoutMs: this.settings.timeoutMs,
      ...(this.settings.env ? { env: this.settings.env } : {}),
      ...(signal ? { signal } : {}),
      ...(input !== undefined ? { input } : {}),
    };
  }

  async list(signal?: AbortSignal): Promise<ClusterInfo[]> {
    const { stdout } = await run(this.bin, ['get', 'clusters'], this.opts(signal));
    const names = stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return Promise.all(names.map((name) => this.info(name, signal)));
  }

  async get(name: string, signal?: AbortSignal): Promise<ClusterInfo | null> {
    const { stdout } = await run(this.bin, ['get', 'clusters'], this.opts(signal));
    if (
      !stdout
        .split('\n')
        .map((l) => l.trim())
        .includes(name)
    )
      return null;
    // The nodes are counted for one cluster (an update asks), not for every listed one.
    const nodes = await this.nodes(name, signal);
    return {
      ...(await this.info(name, signal)),
      nodes: {
        servers: nodes.filter((n) => /-control-plane\d*$/.test(n)).length,
        agents: nodes.filter((n) => /-worker\d*$/.test(n)).length,
      },
    };
  }

  async create(spec: ClusterSpec, signal?: AbortSignal): Promise<'created' | 'exists'> {
    if (await this.get(spec.name, signal)) return 'exists';
    const config = renderKindConfig(spec, this.settings.kindApiServerAddress);
    await run(
      this.bin,
      [
        'create',
        'cluster',
        '--name',
        spec.name,
        '--image',
        this.settings.kindNodeImage,
        '--config',
        '-',
        '--wait',
        '120s',
      ],
      this.opts(signal, config),
    );
    return 'created';
  }

  async delete(name: EnvName, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
    const existed = (await this.get(name, signal)) !== null;
    await run(this.bin, ['delete', 'cluster', '--name', name], this.opts(signal)); // like rm -f
    return existed ? 'deleted' : 'absent';
  }

  /** kind has no limits of its own: its node containers get them through `docker update`. */
  async resize(spec: NodeSpec, signal?: AbortSignal): Promise<'resized' | 'unlimited' | 'absent'> {
    const nodes = await this.nodes(spec.name, signal);
    if (!nodes.length) return 'absent';
    const limits = { cpus: spec.nodeCpus, memoryMib: spec.nodeMemoryMib };
    return updateNodes(this.docker, nodes, limits, this.opts(signal));
  }

  // kind has no stop or start of its own: its clusters are the node containers (upstream
  // cluster.sh stops and starts them with docker).
  async stop(name: EnvName, signal?: AbortSignal): Promise<'stopped' | 'absent'> {
    const nodes = await this.nodes(name, signal);
    if (!nodes.length) return 'absent';
    await run(this.docker, ['stop', ...nodes], this.opts(signal));
    return 'stopped';
  }

  async start(name: EnvName, signal?: AbortSignal): Promise<'started' | 'absent'> {
    const nodes = await this.nodes(name, signal);
    if (!nodes.length) return 'absent';
    await run(this.docker, ['start', ...nodes], this.opts(signal));
    return 'started';
  }

  /** The cluster's node containers (`kind get nodes`); none when there is no such cluster. */
  private async nodes(name: string, signal?: AbortSignal): Promise<string[]> {
    const { stdout } = await run(this.bin, ['get', 'nodes', '--name', name], this.opts(signal));
    return stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  kubeconfig(name: EnvName, signal?: AbortSignal): Promise<string> {
    return run(this.bin, ['get', 'kubeconfig', '--name', name], this.opts(signal)).then(
      (r) => r.stdout,
    );
  }

  /** Whether the control-plane container runs, and the ports it publishes (none while halted). */
  private async info(name: string, signal?: AbortSignal): Promise<ClusterInfo> {
    const r = await runAllowingFailure(
      this.docker,
      [
        'inspect',
        '--format',
        '{"running":{{json .State.Running}},"ports":{{json .NetworkSettings.Ports}}}',
        `${name}-control-plane`,
      ],
      this.opts(signal),
    );
    if (r.exitCode !== 0) return { name, provider: 'kind', running: false, ports: [] };
    const who = `docker inspect ${name}-control-plane`;
    const node = parseJsonAnswer(NodeState, r.stdout, who);
    return {
      name,
      provider: 'kind',
      running: node.running,
      ports: publishedPorts(node.ports ?? {}),
    };
  }
}
