// The `cluster` step: the environment's k3d or kind cluster, with the ports the row allocated.
import {
  command,
  Failure,
  TransientError,
  wrap,
  type Environment,
  type ProviderName,
} from '../domain/index.js';
import type { Presence, PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import { CliError } from '../system/exec.js';
import type { KindIngress } from './kind-ingress.js';
import type { ClusterInfo, Provider } from './provider.js';

/** The node port the host's http port leads to: k3s's Traefik on 80; on kind, Traefik's NodePort. */
export const httpContainerPort = (env: Environment): number =>
  env.provider === 'kind' ? env.nodePort : 80;

export function portDrift(env: Environment, info: ClusterInfo): string | null {
  const want = [
    [httpContainerPort(env), env.httpPort],
    [443, env.httpsPort],
  ] as const;
  const diffs = want.flatMap(([container, host]) => {
    const actual = info.ports.filter((p) => p.container === container).map((p) => p.host);
    return actual.includes(host)
      ? []
      : [
          `port ${container} is published on ${actual.join('/') || 'nothing'}, the database says ${host}`,
        ];
  });
  return diffs.length ? diffs.join('; ') : null;
}

export class ClusterStep implements StepHandler {
  readonly step = 'cluster' as const;
  constructor(
    private readonly providers: Record<ProviderName, Provider>,
    /** kind has no ingress controller of its own; null skips it (tests of the CLI alone). */
    private readonly kindIngress: KindIngress | null = null,
  ) {}

  skipReason(): string | null {
    return null;
  }

  async check(env: Environment): Promise<Presence> {
    const info = await this.providers[env.provider].get(env.name);
    if (!info) return { state: 'absent', detail: `no ${env.provider} cluster "${env.name}"` };
    const drift = portDrift(env, info);
    return drift
      ? { state: 'drift', detail: drift }
      : { state: 'present', detail: `${env.provider} cluster "${env.name}" running` };
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.guard(`creating ${env.provider} cluster "${env.name}"`, () =>
      this.providers[env.provider].create(
        {
          name: env.name,
          httpPort: env.httpPort,
          httpsPort: env.httpsPort,
          subnet: env.subnet,
          nodePort: env.nodePort,
        },
        ctx.signal,
      ),
    );
    if (result === 'exists') {
      // A cluster a dead attempt finished is adopted only when it is the one the row describes.
      const info = await this.providers[env.provider].get(env.name, ctx.signal);
      const drift = info && portDrift(env, info);
      if (drift)
        throw new Failure(
          'step_failed',
          `${env.provider} cluster "${env.name}" exists but is not the one the database describes: ${drift}. To resolve, delete the cluster (${env.provider === 'k3d' ? `k3d cluster delete ${env.name}` : `kind delete cluster --name ${env.name}`}), then retry`,
          command('retry', env.name),
        );
    }
    const made =
      result === 'exists'
        ? `${env.provider} cluster "${env.name}" already present`
        : `created ${env.provider} cluster "${env.name}" (http ${env.httpPort}, https ${env.httpsPort}${env.subnet ? `, network k3d-${env.name} ${env.subnet}` : ''})`;
    if (env.provider !== 'kind' || !this.kindIngress) return made;
    const ingress = this.kindIngress;
    return `${made}; ${await this.guard(`installing the ingress controller in kind cluster "${env.name}"`, () => ingress.ensure(env))}`;
  }

  async remove(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.guard(`deleting ${env.provider} cluster "${env.name}"`, () =>
      this.providers[env.provider].delete(env.name, ctx.signal),
    );
    return result === 'deleted'
      ? `deleted ${env.provider} cluster "${env.name}"`
      : `${env.provider} cluster "${env.name}" already absent`;
  }

  /** An orphan's cluster: whichever provider holds one under the name. */
  async prune(ctx: PruneContext): Promise<string> {
    const done: string[] = [];
    for (const [provider, p] of Object.entries(this.providers))
      if (await p.get(ctx.name)) {
        await this.guard(`deleting ${provider} cluster "${ctx.name}"`, () =>
          p.delete(ctx.name, ctx.signal),
        );
        done.push(`deleted ${provider} cluster "${ctx.name}"`);
      }
    return done.join('; ') || `no cluster "${ctx.name}"`;
  }

  private async guard<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof CliError && error.timedOut)
        throw new TransientError(`${action}: ${error.message}`, { cause: error });
      throw wrap(action, error);
    }
  }
}
