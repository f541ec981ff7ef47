// The `haproxy` step: the environment's route in its gateway (its site's own, or the devops
// side's). Ensuring and removing patch its route alone; a prune, and a config not as a render left
// it, render from the rows that gateway routes.
import type { Environment } from '../domain/index.js';
import {
  listingView,
  placedViews,
  type Observation,
  type Read,
  type SystemView,
} from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import type { GatewayRow, Route } from './haproxy-config.js';
import type { HaproxyGateway } from './haproxy-gateway.js';
import type { Gateways } from './gateways.js';

const UNSET = 'HAPROXY_CONFIG is not set';
const rowSkip = (env: Environment): string | null =>
  env.haproxyRoute ? null : 'haproxy_route is false for this environment';

/** The gateway's routes: one per environment, to the backend its row implies. */
export function haproxyView(observation: Observation<Route>, where = ''): SystemView {
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
    what: (r) => `route ${r.backend}${where}`,
  });
}

export class HaproxyStep implements StepHandler {
  readonly step = 'haproxy' as const;
  constructor(
    private readonly gateways: Gateways,
    /** Every row's route fields (the store's narrow `listRecords`). */
    private readonly rows: () => Promise<GatewayRow[]>,
  ) {}

  skipReason(env: Environment): string | null {
    return this.gateways.of(env.site) ? rowSkip(env) : UNSET;
  }

  async observe(read: Read): Promise<SystemView> {
    return placedViews(read, this.gateways, (g) => g.routes(), haproxyView, 'gateway', UNSET);
  }

  /** Its own route, read from its row alone (every row only when the config needs a render). */
  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.need(env.site).put(env.name, env, async () => {
      const rows = (await this.rows()).map((r) => (r.name === env.name ? env : r));
      if (!rows.some((r) => r.name === env.name)) rows.push(env);
      return this.gateways.rowsOf(env.site, rows);
    });
    return result === 'changed'
      ? `route host_${env.name} → be_${env.name} added${this.on(env.site)}, config validated ` +
          'and reloaded'
      : `route already present${this.on(env.site)}`;
  }

  async remove(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    // The row still exists while a delete runs (it goes last): rendered without it.
    const result = await this.need(env.site).put(env.name, null, async () =>
      this.gateways.rowsOf(
        env.site,
        (await this.rows()).filter((r) => r.name !== env.name),
      ),
    );
    return result === 'changed'
      ? `route for "${env.name}" removed${this.on(env.site)}, config validated and reloaded`
      : `route already absent${this.on(env.site)}`;
  }

  /** Each gateway is rendered from its rows: an orphan's route goes with the next render. */
  async prune(ctx: PruneContext): Promise<string> {
    const rows = await this.rows();
    const all = this.gateways.all();
    if (all.length === 0) throw new Error(UNSET);
    let changed = false;
    for (const { site, value } of all)
      changed =
        (await value.sync(this.gateways.rowsOf(site ?? undefined, rows))) === 'changed' || changed;
    return changed
      ? `route for "${ctx.name}" removed, config validated and reloaded`
      : 'route already absent';
  }

  /** Where a site's own gateway is, for the step's detail ('' for the devops side's). */
  private on(site: string): string {
    return this.gateways.keyOf(site) ? ` in ${this.need(site).where}` : '';
  }

  private need(site: string | undefined): HaproxyGateway {
    const gateway = this.gateways.of(site);
    if (!gateway) throw new Error(UNSET);
    return gateway;
  }
}
