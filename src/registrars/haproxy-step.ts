// The `haproxy` step: the environment's route in the gateway, rendered from all rows.
import type { Environment } from '../domain/index.js';
import type { Presence, PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import { backendTarget, type GatewaySettings } from '../render/haproxy.js';
import type { HaproxyGateway } from './haproxy-gateway.js';

export class HaproxyStep implements StepHandler {
  readonly step = 'haproxy' as const;
  constructor(
    private readonly gateway: HaproxyGateway | null,
    private readonly rows: () => Promise<Environment[]>,
    private readonly settings: GatewaySettings,
  ) {}

  skipReason(env: Environment): string | null {
    if (!this.gateway) return 'HAPROXY_CONFIG is not set';
    return env.haproxyRoute ? null : 'haproxy_route is false for this environment';
  }

  async check(env: Environment): Promise<Presence> {
    const route = (await this.need().routes()).find((r) => r.name === env.name);
    if (!route) return { state: 'absent', detail: `no route for "${env.name}"` };
    const want = backendTarget(env, this.settings);
    return route.server === want
      ? { state: 'present', detail: `route ${route.backend} → ${want}` }
      : {
          state: 'drift',
          detail: `route ${route.backend} goes to ${route.server ?? 'nothing'}, the database says ${want}`,
        };
  }

  async ensure(ctx: StepContext): Promise<string> {
    const rows = (await this.rows()).map((r) => (r.name === ctx.env.name ? ctx.env : r));
    if (!rows.some((r) => r.name === ctx.env.name)) rows.push(ctx.env);
    const result = await this.need().sync(rows);
    return result === 'changed'
      ? `route host_${ctx.env.name} → be_${ctx.env.name} added, config validated and reloaded`
      : 'route already present';
  }

  async remove(ctx: StepContext): Promise<string> {
    // The row still exists while a delete runs (it goes last): render without it.
    const result = await this.need().sync(
      (await this.rows()).filter((r) => r.name !== ctx.env.name),
    );
    return result === 'changed'
      ? `route for "${ctx.env.name}" removed, config validated and reloaded`
      : 'route already absent';
  }

  /** The gateway is rendered from the rows: an orphan's route goes with the next render. */
  async prune(ctx: PruneContext): Promise<string> {
    return (await this.need().sync(await this.rows())) === 'changed'
      ? `route for "${ctx.name}" removed, config validated and reloaded`
      : 'route already absent';
  }

  private need(): HaproxyGateway {
    if (!this.gateway) throw new Error('HAPROXY_CONFIG is not set');
    return this.gateway;
  }
}
