// A lifecycle step that touches one outside system. Every step is a reconcile (docs/style.md rule
// 3):
// `observe` lists what the system holds and never touches; `ensure` is safe to repeat after a
// crash; `remove` succeeds when the thing is already gone. Implementations live next to their
// adapters (git/, providers/, registrars/); the engine and the consistency check only see this
// interface, so adding a system is one adapter, its handler and its registration in runtime.ts.
import type { EnvName, Environment, NextCommand, StepName } from '../domain/index.js';

export type SystemStep = Exclude<StepName, 'record' | 'ready'>;

/**
 * The systems a consistency check reads: one listing each (the cluster step reads k3d and kind).
 */
export const SYSTEMS = ['git', 'k3d', 'kind', 'portainer', 'argocd', 'haproxy'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export type Observation<T> =
  { state: 'ok'; items: T[] } | { state: 'skipped' | 'unknown'; reason: string };
/**
 * Reads one system's listing, bounded in time: a listing that fails or does not answer is
 * `unknown`; a string instead of a reader is why the system is not read (it is not configured).
 */
export type Read = <T>(list: (() => Promise<T[]>) | string) => Promise<Observation<T>>;

/** What an environment's row implies, computed once per check and shared by every system. */
export interface Want {
  env: Environment;
  /** The deploy/ tree id the templates render now; null when rendering failed (see renderError). */
  tree: string | null;
  renderError?: string;
  /** The HAProxy backend target the row implies. */
  route: string;
  /** What brings a differing system back in line with the row: sync, or retry after a failure. */
  repair: NextCommand;
  /**
   * What makes a missing thing right: the repair, or finishing the delete of a row being deleted.
   */
  recreate: NextCommand;
}

/**
 * One way an environment's share of a system differs from its row, with the command that fixes it.
 */
export interface Finding {
  kind: 'missing' | 'mismatch';
  system: SystemName;
  detail: string;
  fix: NextCommand;
}

/** Something a system holds under a name that could be an environment's. */
export interface Holding {
  system: SystemName;
  name: string;
  /** How a person recognises it: `branch "x"`, `Argo CD secret cluster-x`. */
  what: string;
}

/** One listing of a system, and pure judgements over it: no call per environment. */
export interface SystemView {
  /** What each system read answered, in SYSTEMS order. */
  readonly observations: {
    system: SystemName;
    observation: Observation<unknown>;
    /** The site it was read on, when sites are declared (a cluster listing's). */
    site?: string;
  }[];
  /**
   * This environment's share: what differs (none: as the row says), or why it could not be judged.
   */
  assess(want: Want): Finding[] | 'skipped' | 'unknown';
  /** Everything listed that could be an environment's; those no row claims are orphans. */
  holdings(): Holding[];
  /**
   * The names a row's holdings may have here besides its own (a system may know an environment by
   * an alias); a holding under none of any row's names is an orphan.
   */
  aliases?(row: string): string[];
}

export interface StepContext {
  env: Environment;
  /** The pull-request head this operation deploys (create, deploy); null: what the row holds. */
  headSha?: string | null;
  /** Appends a line to the operation's log excerpt (already redacted by the engine). */
  log(line: string): void;
  /** Aborted when the operation is cancelled or the worker shuts down. */
  signal: AbortSignal;
}

/** What prune gives a step: a name no row claims, whose leftovers in this system go. */
export interface PruneContext {
  name: EnvName;
  /** Where a branch is kept before it is deleted (archive/<name>-<stamp>). */
  archiveAs: string;
  log(line: string): void;
  signal: AbortSignal;
}

export interface StepHandler {
  readonly step: SystemStep;
  /**
   * Why this step does not run for this environment — its system is not configured, or the row
   * disables it (register_portainer / haproxy_route false) — or null when it runs.
   */
  skipReason(env: Environment): string | null;
  /**
   * Lists what the system holds, once; the lifecycle's check and the consistency report read it.
   */
  observe(read: Read): Promise<SystemView>;
  /**
   * Makes the thing exist as the DB row says; returns a one-line detail ("created", "already
   * present").
   */
  ensure(ctx: StepContext): Promise<string>;
  /** Makes the thing absent; returns a one-line detail ("deleted", "already absent"). */
  remove(ctx: StepContext): Promise<string>;
  /**
   * Replaces what `before` (the row's earlier provider and nodes) made with what the row says now
   * (the cluster step, on an update): safe to repeat, like ensure.
   */
  recreate?(ctx: StepContext, before: Environment): Promise<string>;
  /** Gives what runs the limits the row says now, as it runs (the cluster step's node sizes). */
  resize?(ctx: StepContext): Promise<string>;
  /** Removes what this system holds under a name no row claims (an orphan); like remove. */
  prune(ctx: PruneContext): Promise<string>;
  /** Halts what runs, keeping it (the cluster step); succeeds when it is halted already. */
  stop?(ctx: StepContext): Promise<string>;
  /** Runs again what stop halted; succeeds when it runs already. */
  start?(ctx: StepContext): Promise<string>;
}

/** How one environment's share of a listing keyed by name is judged. */
export interface ListingJudge<T> {
  /** What differs for `want`'s row; `find` looks an item up by name. */
  assess(want: Want, find: (name: string) => T | undefined): Omit<Finding, 'system'>[];
  /** How a person recognises an item that could be an environment's, or null when it never is. */
  what(item: T): string | null;
  aliases?(row: string): string[];
  /** Why the row itself turns this system off (register_portainer false), or null. */
  skip?(env: Environment): string | null;
}

/** The view of one system whose listing is keyed by environment name. */
export function listingView<T extends { name: string }>(
  system: SystemName,
  observation: Observation<T>,
  judge: ListingJudge<T>,
): SystemView {
  const items =
    observation.state === 'ok' ? new Map(observation.items.map((i) => [i.name, i])) : null;
  return {
    observations: [{ system, observation }],
    assess(want) {
      if (judge.skip?.(want.env)) return 'skipped';
      if (observation.state !== 'ok') return observation.state;
      return judge.assess(want, (name) => items?.get(name)).map((f) => ({ ...f, system }));
    },
    holdings: () =>
      [...(items?.values() ?? [])].flatMap((item) => {
        const what = judge.what(item);
        return what === null ? [] : [{ system, name: item.name, what }];
      }),
    ...(judge.aliases ? { aliases: judge.aliases } : {}),
  };
}

/** A system kept in several places: a site's own, else the devops side's (site null). */
export interface Places<P> {
  all(): { site: string | null; value: P }[];
  /** The place that serves a site's environments: its own, null, or undefined for none. */
  keyOf(site: string): string | null | undefined;
}

/**
 * One system kept in several places — a site's own (its gateway, its Portainer) and the devops
 * side's (null) — each read and judged apart: an environment by the place that serves its site
 * (none: skipped, as the step skips it), a place that cannot be read naming its site and leaving
 * the others judged. None configured: `unset` says why.
 */
export async function placedViews<P, T extends { name: string }>(
  read: Read,
  places: Places<P>,
  list: (place: P) => Promise<T[]>,
  view: (observation: Observation<T>, where: string) => SystemView,
  what: string,
  unset: string,
): Promise<SystemView> {
  const all = places.all();
  if (all.length === 0) return view(await read<T>(unset), '');
  const views = new Map(
    await Promise.all(
      all.map(async ({ site, value }) => {
        const observation = await read(() => list(value));
        const named =
          site === null || observation.state === 'ok'
            ? observation
            : { ...observation, reason: `site ${site}'s ${what}: ${observation.reason}` };
        return [site, view(named, site === null ? '' : ` on site ${site}'s ${what}`)] as const;
      }),
    ),
  );
  const each = [...views.values()];
  return {
    // A site's own is read on that site: the report names it, as a site's clusters.
    observations: [...views].flatMap(([site, v]) =>
      v.observations.map((o) => (site === null ? o : { ...o, site })),
    ),
    assess(want) {
      const place = places.keyOf(want.env.site);
      const chosen = place === undefined ? undefined : views.get(place);
      return chosen ? chosen.assess(want) : 'skipped';
    },
    holdings: () => each.flatMap((v) => v.holdings()),
  };
}
