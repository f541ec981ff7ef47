// The sites the config repository declares (`sites:` in its .github/kindler.yml), kept in the
// database for every process that shares it: the server that read the file, its replicas, and
// every CLI call. KINDLER_SITES, when set, is the one source and the repository's are not read.
// A declaration is checked whole before it is kept (the same rules as the file's), and refused
// while it drops a site that still holds environments; the processes running hear it on
// kindler_events (`sites`) and place, route and register by it from then on.
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { loadSites, parseSites } from '../config/sites.js';
import { byText, Failure, localSite, type Site } from '../domain/index.js';
import { stateKey } from './state-key.js';
import type { Store } from './store.js';

/** What was declared, as the file said it, and from where. */
export const DECLARED_SITES = stateKey(
  'sites:declared',
  z.object({
    sites: z.array(z.unknown()),
    repo: z.string(),
    sha: z.string().nullable(),
    at: z.string(),
  }),
);
export type Declaration = z.output<typeof DECLARED_SITES.schema>;

/** PostgreSQL's undefined_table. */
const UNDEFINED_TABLE = '42P01';

export type SitesSource = 'KINDLER_SITES' | 'repository' | 'default';

export interface KnownSites {
  sites: Site[];
  source: SitesSource;
  /** What the repository's declaration was, as kept (its sites as written): to compare. */
  declared: string | null;
}

/** The sites this process works with: KINDLER_SITES, else the repository's, else `local`. */
export async function knownSites(
  config: Pick<Config, 'KINDLER_SITES'>,
  store: Pick<Store, 'getState'>,
): Promise<KnownSites> {
  if (config.KINDLER_SITES)
    return { sites: loadSites(config.KINDLER_SITES), source: 'KINDLER_SITES', declared: null };
  const kept = await store.getState(DECLARED_SITES).catch((error: unknown) => {
    // A database not migrated yet (the caller migrates after opening) declares nothing.
    if ((error as { code?: unknown }).code === UNDEFINED_TABLE) return null;
    throw error;
  });
  if (!kept || kept.sites.length === 0)
    return { sites: [localSite()], source: 'default', declared: null };
  const parsed = parseSites({ sites: kept.sites });
  if ('error' in parsed)
    throw new Failure(
      'not_configured',
      `the sites ${kept.repo} declared${kept.sha ? ` at ${kept.sha.slice(0, 7)}` : ''} are ` +
        `not valid for this version of kindler (${parsed.error}). To resolve, fix \`sites:\` in ` +
        `its .github/kindler.yml (docs/sites.md)`,
    );
  return { sites: parsed.sites, source: 'repository', declared: canonical(kept.sites) };
}

export type DeclareOutcome =
  | { outcome: 'declared'; sites: Site[] }
  | { outcome: 'unchanged' }
  | { outcome: 'refused'; error: string };

/**
 * Keeps `raw` (the `sites:` of the repository's .github/kindler.yml; absent: none, so `local`) as
 * the declared sites, when it is valid and drops no site that holds environments. One declaration
 * at a time among replicas (the lock conflicts with itself); no environment is written meanwhile.
 */
export async function declareSites(
  store: Pick<Store, 'atomically' | 'getState'>,
  raw: unknown,
  from: { repo: string; sha: string | null },
  /** Why this process could not use the sites (a Portainer's key it lacks); null: it can. */
  problem: (sites: Site[]) => string | null = () => null,
): Promise<DeclareOutcome> {
  const list = raw === undefined || raw === null ? [] : raw;
  const parsed = Array.isArray(list) && list.length === 0 ? null : parseSites({ sites: list });
  if (parsed && 'error' in parsed)
    return { outcome: 'refused', error: `.github/kindler.yml: ${parsed.error}` };
  const sites = parsed?.sites ?? [localSite()];
  const unusable = problem(sites);
  if (unusable) return { outcome: 'refused', error: unusable };
  const text = canonical(list);
  const same = async (reader: Pick<Store, 'getState'>) =>
    canonical((await reader.getState(DECLARED_SITES))?.sites ?? []) === text;
  if (await same(store)) return { outcome: 'unchanged' };
  return store.atomically(async (tx, q) => {
    await q.query('lock table clusters in share row exclusive mode');
    if (await same(tx)) return { outcome: 'unchanged' } as const;
    const names = new Set(sites.map((s) => s.name));
    const held = await q.query<{ site: string; names: string[] }>(
      `select site, array_agg(name order by name) as names from clusters
        where not (site = any($1::text[])) group by site order by site`,
      [[...names]],
    );
    if (held.length > 0)
      return {
        outcome: 'refused',
        error:
          held
            .map((h) => {
              const count = `${h.names.length} environment${h.names.length === 1 ? '' : 's'}`;
              const some = `${h.names.slice(0, 5).join(', ')}${h.names.length > 5 ? ', …' : ''}`;
              return `site ${h.site} holds ${count} (${some})`;
            })
            .join('; ') + '; delete them before the site is dropped from .github/kindler.yml',
      } as const;
    await tx.setState(DECLARED_SITES, {
      sites: list as unknown[],
      repo: from.repo,
      sha: from.sha,
      at: new Date().toISOString(),
    });
    await q.query(`select pg_notify('kindler_events', '{"type":"sites"}')`);
    return { outcome: 'declared', sites } as const;
  });
}

/** A value as JSON with every object's keys in order: jsonb keeps its own order, not the file's. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => byText(a, b)))
      : v,
  );
}
