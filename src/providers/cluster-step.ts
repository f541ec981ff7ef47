// The `cluster` step: the environment's k3d or kind cluster, with the ports the row allocated, on
// the site (Docker host) the row was placed on.
import {
  command,
  describeSize,
  Failure,
  TransientError,
  wrap,
  type Environment,
} from '../domain/index.js';
import type {
  PruneContext,
  Read,
  StepContext,
  StepHandler,
  SystemView,
} from '../lifecycle/step.js';
import { CliError } from '../system/exec.js';
import type { KindIngress } from './kind-ingress.js';
import { clusterView, deleteClusterCommand, portDrift } from './cluster-view.js';
import { SiteFleet, type Providers } from './site-fleet.js';

export class ClusterStep implements StepHandler {
  readonly step = 'cluster' as const;
  private readonly fleet: SiteFleet;
  constructor(
    /** Every site's providers (or one set: the local site's). */
    providers: SiteFleet | Providers,
    /** kind has no ingress controller of its own; null skips it (tests of the CLI alone). */
    private readonly kindIngress: KindIngress | null = null,
  ) {
    this.fleet = providers instanceof SiteFleet ? providers : SiteFleet.single(providers);
  }

  skipReason(): string | null {
    return null;
  }

  /** Every site's clusters, each site read apart: one that is down leaves the others judged. */
  async observe(read: Read): Promise<SystemView> {
    const seen = await Promise.all(
      this.fleet.sites.map(async (site) => {
        const { k3d, kind } = this.fleet.of(site.name);
        const [k3dSeen, kindSeen] = await Promise.all([
          read(() => k3d.list()),
          read(() => kind.list()),
        ]);
        return [site.name, { k3d: k3dSeen, kind: kindSeen }] as const;
      }),
    );
    return clusterView(Object.fromEntries(seen), this.fleet.declared);
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.guard(`creating ${env.provider} cluster "${env.name}"`, () =>
      this.fleet.of(env.site)[env.provider].create(
        {
          name: env.name,
          httpPort: env.httpPort,
          httpsPort: env.httpsPort,
          subnet: env.subnet,
          nodePort: env.nodePort,
          servers: env.servers,
          agents: env.agents,
          nodeCpus: env.nodeCpus,
          nodeMemoryMib: env.nodeMemoryMib,
        },
        ctx.signal,
      ),
    );
    if (result === 'exists') {
      // A cluster a dead attempt finished is adopted only when it is the one the row describes.
      const info = await this.fleet.of(env.site)[env.provider].get(env.name, ctx.signal);
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
    // Its nodes' limits, again when it was there already (a dead attempt may not have set them).
    const size = describeSize(env);
    if (size) await this.limit(ctx);
    const made =
      result === 'exists'
        ? `${env.provider} cluster "${env.name}" already present${size ? ` (${size})` : ''}`
        : `created ${env.provider} cluster "${env.name}" (http ${env.httpPort}, https ` +
          `${env.httpsPort}${env.subnet ? `, network k3d-${env.name} ${env.subnet}` : ''}` +
          `${size ? `, ${size}` : ''})`;
    if (env.provider !== 'kind' || !this.kindIngress) return made;
    const ingress = this.kindIngress;
    return `${made}; ${await this.guard(
      `installing the ingress controller ` + `in kind cluster "${env.name}"`,
      () => ingress.ensure(env),
    )}`;
  }

  /** An update of its nodes' limits alone: applied to the running nodes, nothing remade. */
  async resize(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.limit(ctx);
    const what = `${env.provider} cluster "${env.name}"`;
    if (result === 'absent')
      throw new Failure(
        'step_failed',
        `there is no ${what} to resize: it was deleted outside kindler. To resolve, recreate it ` +
          `with a sync`,
        command('sync'),
      );
    return result === 'unlimited'
      ? `${what}: no node limits to set`
      : `${what}: its nodes now have ${describeSize(env) ?? 'no limits'}`;
  }

  private limit(ctx: StepContext) {
    const { env } = ctx;
    return this.guard(`limiting the nodes of ${env.provider} cluster "${env.name}"`, () =>
      this.fleet.of(env.site)[env.provider].resize(env, ctx.signal),
    );
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
      this.fleet.of(env.site)[env.provider][act](env.name, ctx.signal),
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
      this.fleet.of(env.site)[env.provider].delete(env.name, ctx.signal),
    );
    return result === 'deleted'
      ? `deleted ${env.provider} cluster "${env.name}"`
      : `${env.provider} cluster "${env.name}" already absent`;
  }

  /**
   * An update to another provider, node count or (k3d) node memory: the cluster `before` describes
   * goes, the row's is made. Repeated after a crash, a cluster that already has the row's nodes is
   * kept — but not after a change of k3d's memory, which its listing does not tell: that one is
   * made once more.
   */
  async recreate(ctx: StepContext, before: Environment): Promise<string> {
    const { env } = ctx;
    const moved = before.provider !== env.provider;
    const current = moved
      ? null
      : await this.fleet.of(env.site)[env.provider].get(env.name, ctx.signal);
    const sameMemory = env.provider !== 'k3d' || before.nodeMemoryMib === env.nodeMemoryMib;
    const isRows =
      sameMemory && current?.nodes?.servers === env.servers && current.nodes.agents === env.agents;
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
    for (const site of this.fleet.sites)
      for (const [provider, p] of Object.entries(this.fleet.of(site.name)))
        if (await p.get(ctx.name)) {
          const on = this.fleet.declared ? ` on site ${site.name}` : '';
          const what = `${provider} cluster "${ctx.name}"${on}`;
          await this.guard(`deleting ${what}`, () => p.delete(ctx.name, ctx.signal));
          done.push(`deleted ${what}`);
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
