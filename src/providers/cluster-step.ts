// The `cluster` step: the environment's k3d or kind cluster, with the ports the row allocated.
import {
  PROVIDERS,
  afterShell,
  command,
  Failure,
  TransientError,
  wrap,
  type Environment,
  type ProviderName,
} from '../domain/index.js';
import type {
  Observation,
  PruneContext,
  Read,
  StepContext,
  StepHandler,
  SystemView,
} from '../lifecycle/step.js';
import { CliError } from '../system/exec.js';
import type { KindIngress } from './kind-ingress.js';
import type { ClusterInfo, Provider } from './provider.js';

/**
 * The node port the host's http port leads to: k3s's Traefik on 80; on kind, Traefik's NodePort.
 */
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
          `port ${container} is published on ` +
            `${actual.join('/') || 'nothing'}, the database says ${host}`,
        ];
  });
  return diffs.length ? diffs.join('; ') : null;
}

/** How the cluster's nodes differ from the row's, when its listing tells them (k3d's does). */
export function nodeDrift(env: Environment, info: ClusterInfo): string | null {
  const nodes = info.nodes;
  if (!nodes || (nodes.servers === env.servers && nodes.agents === env.agents)) return null;
  return (
    `the cluster has ${nodes.servers} server(s) and ${nodes.agents} agent(s), ` +
    `the database says ${env.servers} and ${env.agents}`
  );
}

export const deleteClusterCommand = (p: ProviderName, name: string): string =>
  p === 'k3d' ? `k3d cluster delete ${name}` : `kind delete cluster --name ${name}`;
const other = (p: ProviderName): ProviderName => (p === 'k3d' ? 'kind' : 'k3d');

/** The clusters of both providers: the row's one must run in its provider, with its ports. */
export function clusterView(observed: Record<ProviderName, Observation<ClusterInfo>>): SystemView {
  const listed = (p: ProviderName) => {
    const o = observed[p];
    return o.state === 'ok' ? new Map(o.items.map((c) => [c.name, c])) : null;
  };
  const clusters = { k3d: listed('k3d'), kind: listed('kind') };
  return {
    observations: PROVIDERS.map((system) => ({ system, observation: observed[system] })),
    assess({ env, repair, recreate }) {
      const own = observed[env.provider];
      if (own.state !== 'ok') return own.state;
      const system = env.provider;
      const info = clusters[system]?.get(env.name);
      if (!info) {
        const elsewhere = other(system);
        return clusters[elsewhere]?.has(env.name)
          ? [
              {
                kind: 'mismatch',
                system,
                detail: `the database says ${system}, the cluster runs in ${elsewhere}`,
                fix: afterShell(deleteClusterCommand(elsewhere, env.name), repair),
              },
            ]
          : [
              {
                kind: 'missing',
                system,
                detail: `no ${system} cluster "${env.name}"`,
                fix: recreate,
              },
            ];
      }
      // A halted cluster publishes no ports: whether it should run is what is judged.
      if (!info.running)
        return env.status === 'stopped'
          ? []
          : [
              {
                kind: 'mismatch',
                system,
                detail: 'the cluster is stopped',
                fix: command('start', env.name),
              },
            ];
      if (env.status === 'stopped')
        return [
          {
            kind: 'mismatch',
            system,
            detail: 'the cluster runs, but the environment was stopped',
            fix: command('stop', env.name),
          },
        ];
      const ports = portDrift(env, info) ?? nodeDrift(env, info);
      if (ports)
        return [
          {
            kind: 'mismatch',
            system,
            detail: ports,
            fix: afterShell(deleteClusterCommand(system, env.name), repair),
          },
        ];
      return [];
    },
    holdings: () =>
      PROVIDERS.flatMap((system) =>
        [...(clusters[system]?.values() ?? [])].map((c) => ({
          system,
          name: c.name,
          what: `${system} cluster "${c.name}"`,
        })),
      ),
  };
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

  async observe(read: Read): Promise<SystemView> {
    const { k3d, kind } = this.providers;
    const [k3dSeen, kindSeen] = await Promise.all([
      read(() => k3d.list()),
      read(() => kind.list()),
    ]);
    return clusterView({ k3d: k3dSeen, kind: kindSeen });
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
          servers: env.servers,
          agents: env.agents,
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
          `${env.provider} cluster "${env.name}" exists but is not the one the ` +
            `database describes: ${drift}. To resolve, delete the cluster ` +
            `(${deleteClusterCommand(env.provider, env.name)}), then retry`,
          command('retry', env.name),
        );
    }
    const made =
      result === 'exists'
        ? `${env.provider} cluster "${env.name}" already present`
        : `created ${env.provider} cluster "${env.name}" (http ${env.httpPort}, https ` +
          `${env.httpsPort}${env.subnet ? `, network k3d-${env.name} ${env.subnet}` : ''})`;
    if (env.provider !== 'kind' || !this.kindIngress) return made;
    const ingress = this.kindIngress;
    return `${made}; ${await this.guard(
      `installing the ingress controller ` + `in kind cluster "${env.name}"`,
      () => ingress.ensure(env),
    )}`;
  }

  async stop(ctx: StepContext): Promise<string> {
    return this.power(ctx, 'stop');
  }

  async start(ctx: StepContext): Promise<string> {
    return this.power(ctx, 'start');
  }

  private async power(ctx: StepContext, act: 'stop' | 'start'): Promise<string> {
    const { env } = ctx;
    const what = `${env.provider} cluster "${env.name}"`;
    const result = await this.guard(`${act === 'stop' ? 'stopping' : 'starting'} ${what}`, () =>
      this.providers[env.provider][act](env.name, ctx.signal),
    );
    if (result === 'absent')
      throw new Failure(
        'step_failed',
        `there is no ${what} to ${act}: it was deleted outside kindler. To resolve, ` +
          `recreate it with a sync`,
        command('sync'),
      );
    return `${act === 'stop' ? 'stopped' : 'started'} ${what}`;
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

  /**
   * An update to another provider or node count: the cluster `before` describes goes, the row's is
   * made. Repeated after a crash, a cluster that already is the row's is kept.
   */
  async recreate(ctx: StepContext, before: Environment): Promise<string> {
    const { env } = ctx;
    const moved = before.provider !== env.provider;
    const current = moved ? null : await this.providers[env.provider].get(env.name, ctx.signal);
    const isRows = current?.nodes?.servers === env.servers && current.nodes.agents === env.agents;
    const kept = current ? 'is the new one' : 'already absent';
    const gone =
      moved || (current && !isRows)
        ? await this.remove({ ...ctx, env: before })
        : `${before.provider} cluster "${env.name}" ${kept}`;
    return `${gone}; ${await this.ensure(ctx)}`;
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
