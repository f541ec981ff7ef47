// kind through its CLI, with a generated cluster config on stdin: the allocated ports become
// extraPortMappings 80→http and 443→https on the control-plane node.
import type { EnvName } from '../domain/index.js';
import { renderKindConfig } from '../render/kind-config.js';
import { run, runAllowingFailure, type RunOptions } from '../system/exec.js';
import { parseJsonAnswer } from '../system/parse.js';
import { CliProvider, PortBindings, publishedPorts } from './provider.js';
import type { ClusterInfo, ClusterSpec, Provider } from './provider.js';

export class KindProvider extends CliProvider implements Provider {
  readonly name = 'kind' as const;

  private opts(signal?: AbortSignal, input?: string): RunOptions {
    return {
      timeoutMs: this.settings.timeoutMs,
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
    return Promise.all(
      names.map(async (name) => ({
        name,
        provider: 'kind' as const,
        running: true,
        ports: await this.ports(name, signal),
      })),
    );
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
    return { name, provider: 'kind', running: true, ports: await this.ports(name, signal) };
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

  kubeconfig(name: EnvName, signal?: AbortSignal): Promise<string> {
    return run(this.bin, ['get', 'kubeconfig', '--name', name], this.opts(signal)).then(
      (r) => r.stdout,
    );
  }

  private async ports(name: string, signal?: AbortSignal) {
    const r = await runAllowingFailure(
      this.docker,
      ['inspect', '--format', '{{json .NetworkSettings.Ports}}', `${name}-control-plane`],
      this.opts(signal),
    );
    if (r.exitCode !== 0) return [];
    const who = `docker inspect ${name}-control-plane`;
    return publishedPorts(parseJsonAnswer(PortBindings.nullable(), r.stdout || '{}', who) ?? {});
  }
}
