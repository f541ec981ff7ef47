// The console's JSON API for reading, a route table: environments (paged), one environment with
// its operations, operations, the consistency report, what GitHub has not taken.
import type http from 'node:http';
import { json, jsonText } from '../server/http-server.js';
import { auditQuery } from '../commands/audit-filter.js';
import {
  ENV_STATUSES,
  parseLabels,
  HEALTH_STATES,
  checkEnvName,
  type EnvStatus,
  type Health,
} from '../domain/index.js';
import { PAGE, type DashboardData, type ListPage } from './data.js';

type Answer = [status: number, body: unknown];

const ROUTES: [RegExp, (m: RegExpExecArray, url: URL, data: DashboardData) => Promise<Answer>][] = [
  [
    /^environments$/,
    async (_m, url, data) => {
      const page = pageOf(url);
      return 'error' in page ? [400, page] : [200, await data.environments(page)];
    },
  ],
  [
    /^environments\/([^/]+)$/,
    async (m, _url, data) => {
      const name = decodeName(m[1] as string);
      if (name === null)
        return [400, { error: 'the name in the path is not valid percent-encoding' }];
      const found = await data.environment(name);
      return found ? [200, found] : [404, { error: `no environment named "${name}"` }];
    },
  ],
  [
    /^environments\/([^/]+)\/versions$/,
    async (m, _url, data) => {
      const name = decodeName(m[1] as string);
      const check = name === null ? null : checkEnvName(name);
      if (!check?.ok) return [400, { error: 'the name in the path is not an environment name' }];
      const found = await data.versions(check.name);
      return found ? [200, found] : [404, { error: `no environment named "${name}"` }];
    },
  ],
  [
    /^operations$/,
    async (_m, url, data) => {
      const limit = limitOf(url, 50);
      if (typeof limit !== 'number') return [400, limit];
      const env = url.searchParams.get('env');
      return [200, await data.operations({ limit, ...(env ? { envName: env } : {}) })];
    },
  ],
  [
    /^audit$/,
    async (_m, url, data) => {
      const query = auditQuery({
        actor: url.searchParams.get('actor'),
        env: url.searchParams.get('env'),
        since: url.searchParams.get('since'),
        limit: url.searchParams.get('limit'),
      });
      return 'error' in query ? [400, query] : [200, await data.audit(query)];
    },
  ],
  [/^consistency$/, async (_m, _url, data) => [200, await data.consistency()]],
  [/^github-writes$/, async (_m, _url, data) => [200, await data.undelivered()]],
];

/** Answers a read under /kindler/api/ (`route` is what follows it). */
export async function jsonApi(
  route: string,
  url: URL,
  res: http.ServerResponse,
  data: DashboardData,
): Promise<boolean> {
  for (const [pattern, answer] of ROUTES) {
    const m = pattern.exec(route);
    if (!m) continue;
    // The answer's text, kept until the database announces a change (a degraded one is not).
    const [status, text] = await data.cached(
      `api ${route}${url.search}`,
      async (): Promise<[number, string, boolean]> => {
        const [code, body] = await answer(m, url, data);
        const degraded = (body as { degraded?: unknown } | null)?.degraded === true;
        return [code, jsonText(body), code === 200 && !degraded];
      },
      ([, , keep]) => keep,
    );
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(text);
    return true;
  }
  json(res, 404, {
    error: `no API at /kindler/api/${route}`,
    routes: [
      'environments',
      'environments/<name>',
      'environments/<name>/versions',
      'audit?actor=&env=&since=&limit=',
      'operations?env=&limit=',
      'consistency',
      'github-writes',
    ],
  });
  return true;
}

/** `?limit=` of a list (`fallback` when absent), or what is wrong with it. */
export function limitOf(url: URL, fallback: number): number | { error: string } {
  const limit = Number(url.searchParams.get('limit') ?? fallback);
  return Number.isInteger(limit) && limit >= 1 && limit <= 1000
    ? limit
    : { error: 'limit must be a whole number from 1 to 1000' };
}

/**
 * `?limit=&after=` of a list, and its filter (`q`: part of a name; `status`; `health`; `label`,
 * each `key=value`, all of them carried): the page
 * asked for, or what is wrong with it.
 */
export function pageOf(url: URL): ListPage | { error: string } {
  const limit = limitOf(url, PAGE);
  if (typeof limit !== 'number') return limit;
  const q = url.searchParams.get('q')?.trim().toLowerCase() || null;
  if (q !== null && !/^[a-z0-9-]{1,63}$/.test(q))
    return { error: 'q is part of a name: lowercase letters, digits and hyphens' };
  const status = url.searchParams.get('status') || null;
  if (status !== null && !(ENV_STATUSES as readonly string[]).includes(status))
    return { error: `status is one of ${ENV_STATUSES.join(', ')}` };
  const health = url.searchParams.get('health') || null;
  if (health !== null && !(HEALTH_STATES as readonly string[]).includes(health))
    return { error: `health is one of ${HEALTH_STATES.join(', ')}` };
  const words = url.searchParams.getAll('label').filter((l) => l.trim() !== '');
  const labels = words.length ? parseLabels(words) : null;
  if (labels && 'message' in labels) return { error: labels.message };
  return {
    after: url.searchParams.get('after') || null,
    limit,
    q,
    status: status as EnvStatus | null,
    health: health as Health | null,
    ...(labels ? { labels: labels.labels as Record<string, string> } : {}),
  };
}

/** A path segment decoded, or null when its percent-encoding is malformed (`%ZZ`). */
export function decodeName(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
