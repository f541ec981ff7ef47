// The sites of the config repository's .github/kindler.yml, read where they change: at start, on a
// push to its default branch that touches the file (answered with a `kindler/sites` check run on
// the pushed commit: declared, or refused and why), and every few minutes in turns among replicas
// (a push whose delivery was lost). What is declared is kept for every process
// (store/declared-sites.ts); each replaces its sites when it hears of it (server/site-watch.ts).
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/config.js';
import { httpStatusOf, messageOf, type Site } from '../domain/index.js';
import { declareSites, type DeclareOutcome } from '../store/declared-sites.js';
import type { Store } from '../store/store.js';
import type { LogFn } from '../system/log.js';
import type { Outbox } from './outbox.js';
import type { GitHubClient, RepoRef } from './types.js';

export const SITES_CHECK = 'kindler/sites';
const FILE = '.github/kindler.yml';

export interface SiteDeclarationDeps {
  rt: {
    store: Pick<Store, 'atomically' | 'getState'>;
    config: Pick<Config, 'KINDLER_SITES'>;
    sitesProblem?: (sites: readonly Site[]) => string | null;
  };
  outbox: Pick<Outbox, 'send'>;
  log?: LogFn | undefined;
}

/** What a push said: where it went and which files its commits touched. */
export interface PushEvent {
  repo: RepoRef;
  ref: string;
  after: string;
  deleted: boolean;
  defaultBranch: string;
  /** Every path its commits added, modified or removed. */
  touched: string[];
  /** GitHub lists at most 2,048 commits: beyond, what they touched is not known. */
  commitsListed: number;
}

export type SitesOutcome = DeclareOutcome | { outcome: 'ignored'; error: string };

/** Reads the file at `ref` (the default branch's head when absent) and keeps what it declares. */
export async function refreshSites(
  deps: SiteDeclarationDeps,
  octokit: GitHubClient,
  repo: RepoRef,
  ref?: string,
): Promise<SitesOutcome> {
  const raw = await readSites(octokit, repo, ref);
  const from = { repo: `${repo.owner}/${repo.repo}`, sha: ref ?? null };
  const outcome = await judge(deps, raw, from);
  if (outcome.outcome === 'declared') {
    const names = outcome.sites.map((s) => s.name).join(', ');
    deps.log?.('info', `sites declared by ${from.repo}: ${names}`, { sha: from.sha });
  } else if (outcome.outcome !== 'unchanged')
    deps.log?.('warn', `sites of ${from.repo} not used: ${outcome.error}`, { sha: from.sha });
  return outcome;
}

/** What the file's sites come to: refused, not used (KINDLER_SITES), or kept when they changed. */
async function judge(
  deps: SiteDeclarationDeps,
  raw: { sites: unknown } | { error: string },
  from: { repo: string; sha: string | null },
): Promise<SitesOutcome> {
  if ('error' in raw) return { outcome: 'refused', error: raw.error };
  if (!deps.rt.config.KINDLER_SITES)
    return declareSites(deps.rt.store, raw.sites, from, (sites) =>
      deps.rt.sitesProblem ? deps.rt.sitesProblem(sites) : null,
    );
  if (raw.sites === undefined) return { outcome: 'unchanged' };
  return {
    outcome: 'ignored',
    error: `the bot's KINDLER_SITES is set, so the sites of ${FILE} are not used`,
  };
}

/** A push to the config repository's default branch that touched the file: read and answered. */
export async function handlePush(
  event: PushEvent,
  octokit: GitHubClient,
  deps: SiteDeclarationDeps & { configRepo?: string | undefined },
): Promise<SitesOutcome | null> {
  const full = `${event.repo.owner}/${event.repo.repo}`.toLowerCase();
  if (!deps.configRepo || deps.configRepo.toLowerCase() !== full) return null;
  if (event.deleted || event.ref !== `refs/heads/${event.defaultBranch}`) return null;
  if (event.commitsListed < 2048 && !event.touched.includes(FILE)) return null;
  const outcome = await refreshSites(deps, octokit, event.repo, event.after);
  if (outcome.outcome === 'unchanged') return outcome;
  await deps.outbox.send(
    {
      kind: 'check-run',
      repo: event.repo,
      name: SITES_CHECK,
      headSha: event.after,
      status: 'completed',
      externalId: `sites:${event.after}`,
      ...answerOf(outcome),
    },
    // One answer per commit, however many replicas or redeliveries read it.
    { key: `sites:${event.after}`, client: octokit },
  );
  return outcome;
}

/** The check run's conclusion and words for what a push declared. */
function answerOf(outcome: Exclude<SitesOutcome, { outcome: 'unchanged' }>) {
  if (outcome.outcome === 'declared') {
    const names = outcome.sites.map((s) => s.name);
    return {
      conclusion: 'success' as const,
      title: `Sites declared: ${names.join(', ')}`,
      summary:
        `From this commit on, environments are placed on ${names.length} ` +
        `site${names.length === 1 ? '' : 's'}: ${names.map((n) => `\`${n}\``).join(', ')}.`,
    };
  }
  return outcome.outcome === 'ignored'
    ? {
        conclusion: 'neutral' as const,
        title: 'Sites not used: KINDLER_SITES is set',
        summary: `${outcome.error}.`,
      }
    : {
        conclusion: 'failure' as const,
        title: 'Sites refused: the ones declared before stay',
        summary: `${outcome.error}.`,
      };
}

/** The `sites:` of the file at `ref`: absent when the file or the key is. */
async function readSites(
  octokit: GitHubClient,
  repo: RepoRef,
  ref: string | undefined,
): Promise<{ sites: unknown } | { error: string }> {
  let text: string;
  try {
    const { data } = await octokit.rest.repos.getContent({
      ...repo,
      path: FILE,
      ...(ref ? { ref } : {}),
      mediaType: { format: 'raw' },
    });
    text = String(data);
  } catch (error) {
    if (httpStatusOf(error) === 404) return { sites: undefined };
    throw error;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    return { error: `${FILE} is not valid YAML: ${messageOf(error).split('\n')[0]}` };
  }
  return { sites: (doc as { sites?: unknown } | null)?.sites };
}
