// The `haproxy` step: the environment's route in the gateway, rendered from all rows.
import type { Environment } from '../domain/index.js';
import { listingView, type Observation, type Read, type SystemView } from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import type { GatewayRow, Route } from './haproxy-config.js';
import type { HaproxyGateway } from './haproxy-gateway.js';

const UNSET = 'HAPROXY_CONFIG is not set';
const rowSkip = (env: Environment): string | null =>
  env.haproxyRoute ? null : 'haproxy_route is false for this environment';

/** The gateway's routes: one per environment, to the backend its row implies. */
export function haproxyView(observation: Observation<Route>): SystemView {
  return listingView('haproxy', observation, {
    skip: rowSkip,
    assess({ env, route: want, repair, recreate }, find) {
      const route = find(env.name);
      if (!route) return [{ kind: 'missing', detail: `no route for "${env.name}"`, fix: recreate }];
      if (route.server === want) return [];
      const detail =
        `${route.backend} goes to ${route.server ?? 'nothing'}, ` + `the database says ${want}`;
      return [{ kind: 'mismatch', detail, fix: repair }];
    },
    what: (r) => `route ${r.backend}`,
  });
}

export class HaproxyStep implements StepHandler {
  readonly step = 'haproxy' as const;
  constructor(
    private readonly gateway: HaproxyGateway | null,
    /** Every row's route fields (the store's narrow `listRecords`). */
    private readonly rows: () => Promise<GatewayRow[]>,
  ) {}

  skipReason(env: Environment): string | null {
    return this.gateway ? rowSkip(env) : UNSET;
  }

  async observe(read: Read): Promise<SystemView> {
    const { gateway } = this;
    return haproxyView(await read(gateway ? () => gateway.routes() : UNSET));
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
    if (!this.gateway) throw new Error(UNSET);
    return this.gateway;
  }
}
