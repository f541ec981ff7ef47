// The console's two pages as a reader sees them: the list (with the create form given back what a
// refused form held, and a prune preview to confirm) and one environment with its operations.
import type http from 'node:http';
import { labelsText, type Operation } from '../domain/index.js';
import { takeFlash } from './flash.js';
import { pruneConfirm, type Viewer } from './controls.js';
import type { Notice } from './layout.js';
import { openPreview } from '../actions/index.js';
import type { DashboardData } from './data.js';
import { html } from './html.js';
import { listPage, notFoundPage } from './pages.js';
import { auditPage } from './audit-page.js';
import { auditQuery } from '../commands/audit-filter.js';
import { environmentPage } from './environment-page.js';
import { pageOf } from './json-api.js';
import { degradation, sendHtml } from './respond.js';
import type { Store } from '../store/store.js';

export interface PageViewDeps {
  data: DashboardData;
  store: Store;
  viewerOf(req: http.IncomingMessage, name: string | null): Promise<Viewer>;
  githubWeb?: string | undefined;
  branchUrl?: ((name: string) => string | null) | undefined;
  systemLinks?:
    ((name: string, operations: Operation[]) => { label: string; url: string }[]) | undefined;
}

export function pageViews(deps: PageViewDeps) {
  /** A page's notice: what the request's flash cookie carries (cleared here), or `notice`. */
  const noticeOf = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    notice: Notice | null,
  ): { notice: Notice | null; values: Record<string, string> } => {
    const { flash, clear } = takeFlash(req);
    if (clear) res.setHeader('set-cookie', clear);
    if (!flash) return { notice, values: {} };
    return {
      notice: { text: html`${flash.text}`, error: flash.error },
      values: flash.values ?? {},
    };
  };
  const listing = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    given: Notice | null,
  ) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const page = pageOf(url);
    const [envs, consistency, undelivered, viewer] = await Promise.all([
      deps.data.environments('error' in page ? undefined : page),
      deps.data.consistency(),
      deps.data.undelivered(),
      deps.viewerOf(req, null),
    ]);
    const shown = noticeOf(req, res, given);
    let notice = shown.notice;
    // A prune preview the viewer asked for: its confirmation, while it is open.
    const previewId = url.searchParams.get('prune');
    if (previewId !== null && !notice && viewer.allowed.has('prune')) {
      const preview = await openPreview(deps.store, previewId).catch(() => null);
      notice = preview
        ? { text: pruneConfirm(viewer, preview), error: false }
        : {
            text: html`That prune preview is no longer open (an hour, carried out once); preview
            again.`,
            error: true,
          };
    }
    return sendHtml(
      res,
      status,
      listPage({
        environments: envs.environments,
        next: envs.next,
        report: consistency.report,
        undelivered: undelivered.writes,
        degraded: degradation(envs),
        viewer,
        notice,
        values: shown.values,
        filter:
          'error' in page
            ? {}
            : {
                q: page.q,
                status: page.status,
                health: page.health,
                label: page.labels ? labelsText(page.labels) : null,
              },
      }),
    );
  };
  const environment = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    status: number,
    notice: Notice | null,
  ) => {
    const shown = noticeOf(req, res, notice);
    // Its row, operations, health and versions in one round trip (no versions while degraded).
    const found = await deps.data.environment(name, { versions: true });
    if (!found) {
      const envs = await deps.data.environments();
      return sendHtml(res, 404, notFoundPage(name, degradation(envs)));
    }
    return sendHtml(
      res,
      status,
      environmentPage({
        name,
        environment: found.environment,
        operations: found.operations,
        versions: found.versions ?? [],
        degraded: degradation(found),
        viewer: await deps.viewerOf(req, name),
        notice: shown.notice,
        ...(deps.githubWeb ? { githubWeb: deps.githubWeb } : {}),
        branchUrl: deps.branchUrl?.(name) ?? null,
        systems: deps.systemLinks?.(name, found.operations) ?? [],
      }),
    );
  };
  /** Every operation and version, newest first, filtered as the query says. */
  const audit = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const given = (key: string) => url.searchParams.get(key);
    const query = auditQuery({
      actor: given('actor'),
      env: given('env'),
      since: given('since'),
      limit: given('limit'),
    });
    const viewer = await deps.viewerOf(req, null);
    if ('error' in query)
      return sendHtml(res, 400, auditPage({ entries: [], filter: {}, viewer, error: query.error }));
    const { entries } = await deps.data.audit(query);
    const filter = { actor: given('actor'), env: given('env'), since: given('since') };
    return sendHtml(res, 200, auditPage({ entries, filter, viewer, error: null }));
  };
  return { listing, environment, audit };
}
