// The dashboard's HTML, rendered on the server: semantic tables with captions and scoped headers,
// a degraded banner announced to screen readers, readable on a phone (tables scroll sideways
// inside their own box). One small script (assets/live.js) keeps a page current while operations
// run; everything works without it. Every value is escaped.
import type { ConsistencyReport } from '../consistency/compare.js';
import type { Operation, StepState } from '../domain/index.js';
import { hintFor } from '../lifecycle/hints.js';
import {
  NOBODY,
  account,
  environmentControls,
  fixButton,
  listControls,
  type Viewer,
} from './controls.js';
import type { Degradation, EnvironmentView, UndeliveredView } from './data.js';
import { esc } from './html.js';
import { age, reportSection, undeliveredSection } from './sections.js';

const CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #6e7781; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
header h1 { font-size: 1.25rem; margin: .25rem 0; }
header a { color: inherit; }
h2 { font-size: 1.05rem; margin-top: 1.75rem; }
.banner { border: 2px solid var(--warn); border-radius: 6px; padding: .6rem .8rem; margin: 0 0 1rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: .25rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.wrap { white-space: normal; }
.s-ready, .c-ok, .st-done, .consistent { color: var(--ok); }
.s-failed, .s-delete_failed, .c-missing, .c-orphan, .c-mismatch, .st-failed, .inconsistent { color: var(--bad); }
.s-creating, .s-deleting, .c-busy, .c-unknown, .st-running, .st-warning { color: var(--warn); }
.muted, .c-skipped, .c-absent, .st-skipped, .st-pending { color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
ol.steps { padding-left: 1.25rem; }
code { font-size: .9em; }
pre.log { max-height: 20rem; overflow: auto; background: rgba(127,127,127,.08); padding: .5rem; font-size: .85em; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.account { margin-left: auto; }
.notice { border: 2px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.notice.error { border-color: var(--bad); }
button { font: inherit; padding: .3rem .8rem; cursor: pointer; }
input, select { font: inherit; padding: .2rem .4rem; }
:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
`;

/** A page of the console outside the environments (setup). */
export const page = (title: string, body: string): string => layout(title, body, null);

/** What the last action said (HTML already escaped): a refusal, a preview, a confirmation. */
export interface Notice {
  text: string;
  error: boolean;
}

function layout(
  title: string,
  body: string,
  degraded: Degradation | null,
  /** Pages that follow operations live: the environment they show, or '' for all. */
  live?: string,
  viewer: Viewer = NOBODY,
  /** What the last action said (a refusal, a preview), shown first and announced. */
  notice?: Notice | null,
): string {
  const banner = degraded
    ? `<div class="banner" role="alert"><strong>Degraded:</strong> ${esc(degraded.reason)}. Showing the CSV snapshot from ${esc(degraded.snapshotAt ?? 'an unknown time')}; changes are refused until the database is back.</div>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · kindler</title>
<style>${CSS}</style>
</head>
<body${live ? ` data-env="${esc(live)}"` : ''}>
<header><h1><a href="/kindler">kindler</a></h1><span class="muted">local Kubernetes environments, database first</span>${account(viewer)}</header>
<main>
${banner}${notice ? `<div class="notice${notice.error ? ' error' : ''}" role="${notice.error ? 'alert' : 'status'}">${notice.text}</div>\n` : ''}${body}
</main>
${live === undefined ? '' : '<p id="live" class="muted" role="status" aria-live="polite"></p>\n<script src="/kindler/assets/live.js" defer></script>\n'}</body>
</html>
`;
}

const link = (url: string | null, text: string) =>
  url && /^https?:\/\//.test(url) ? `<a href="${esc(url)}">${esc(text)}</a>` : esc(text);
const envLink = (name: string) =>
  `<a href="/kindler/environments/${encodeURIComponent(name)}">${esc(name)}</a>`;

export function listPage(input: {
  environments: EnvironmentView[];
  /** Where the next page starts (the environments are shown a page at a time), or none. */
  next?: string | null;
  report: ConsistencyReport | null;
  /** Writes to GitHub not taken (none when absent). */
  undelivered?: UndeliveredView[];
  degraded: Degradation | null;
  now?: Date;
  viewer?: Viewer;
  /** HTML already escaped: a refusal, or a prune preview to confirm. */
  notice?: Notice | null;
  /** What a refused create form held, given back to it. */
  values?: Record<string, string>;
}): string {
  const viewer = input.viewer ?? NOBODY;
  const now = input.now ?? new Date();
  const rows = input.environments
    .map(
      (e) => `<tr>
<th scope="row">${envLink(e.name)}</th><td>${esc(e.provider)}</td><td class="s-${esc(e.status ?? 'unknown')}">${esc(e.status ?? 'unknown')}</td>
<td>${e.httpPort} / ${e.httpsPort}</td><td>${esc(e.subnet ?? '–')}</td><td>${link(e.url, e.url)}</td>
<td>${age(e.createdAt, now)}</td><td>${e.status === null ? '–' : e.pinned ? 'pinned' : e.expiresAt ? age(e.expiresAt, now) : 'never'}</td>
<td>${esc(e.requestedBy ?? '–')}${e.sourceUrl ? ` · ${link(e.sourceUrl, e.sourceUrl === 'cli' ? 'cli' : 'source')}` : ''}</td></tr>`,
    )
    .join('\n');
  const table = input.environments.length
    ? `<div class="scroll"><table>
<caption>${input.environments.length} environment${input.environments.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">name</th><th scope="col">provider</th><th scope="col">status</th><th scope="col">http / https</th><th scope="col">subnet</th><th scope="col">url</th><th scope="col">age</th><th scope="col">expires</th><th scope="col">asked by</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`
    : '<p>No environments yet. Create one with <code>/env create &lt;name&gt;</code> in an issue, or <code>kindler create &lt;name&gt;</code>.</p>';
  return layout(
    'environments',
    `<h2 id="environments">Environments</h2>\n${table}\n${input.next ? `<p><a href="/kindler?after=${encodeURIComponent(input.next)}" rel="next">Next page after ${esc(input.next)} →</a></p>\n` : ''}${input.degraded ? '' : listControls(viewer, input.values)}\n${reportSection(input.report, input.degraded !== null)}${undeliveredSection(input.undelivered ?? [], now)}`,
    input.degraded,
    '',
    viewer,
    input.notice,
  );
}

/**
 * An operation's log (redacted and bounded when it was kept), split by step: what a step wrote
 * comes before the line that sums it up (`branch: created`); lines after the last such line are
 * the running step's.
 */
export function stepLogs(op: Operation): Map<string, string[]> {
  const names = new Set<string>(op.steps.map((s) => s.step));
  const logs = new Map<string, string[]>();
  let pending: string[] = [];
  for (const line of (op.logOutput ?? '').split('\n')) {
    if (!line) continue;
    pending.push(line);
    const step = /^([a-z]+): /.exec(line)?.[1];
    if (step && names.has(step)) {
      logs.set(step, [...(logs.get(step) ?? []), ...pending]);
      pending = [];
    }
  }
  if (pending.length && op.currentStep)
    logs.set(op.currentStep, [...(logs.get(op.currentStep) ?? []), ...pending]);
  return logs;
}

const duration = (s: StepState) =>
  s.startedAt && s.completedAt
    ? `${((new Date(s.completedAt).getTime() - new Date(s.startedAt).getTime()) / 1000).toFixed(1)} s`
    : '';

export function environmentPage(input: {
  name: string;
  environment: EnvironmentView | null;
  operations: Operation[];
  degraded: Degradation | null;
  now?: Date;
  viewer?: Viewer;
  notice?: Notice | null;
  /** Where an operation's GitHub conversation and check run are (https://github.com). */
  githubWeb?: string;
  /** The environment's branch on the web, when there is such a page. */
  branchUrl?: string | null;
  /** Its pages in other systems' web UIs (Portainer, Argo CD). */
  systems?: { label: string; url: string }[];
}): string {
  const now = input.now ?? new Date();
  const viewer = input.viewer ?? NOBODY;
  const web = input.githubWeb ?? 'https://github.com';
  const e = input.environment;
  const facts = e
    ? `<dl>
<dt>provider</dt><dd>${esc(e.provider)}</dd>
<dt>status</dt><dd class="s-${esc(e.status ?? 'unknown')}">${esc(e.status ?? 'unknown')}</dd>
<dt>url</dt><dd>${link(e.url, e.url)}</dd>
<dt>ports</dt><dd>http ${e.httpPort} · https ${e.httpsPort} · port-forward ${e.pfPort} · node ${e.nodePort}</dd>
<dt>subnet</dt><dd>${esc(e.subnet ?? '–')}</dd>
<dt>created</dt><dd>${esc(e.createdAt ?? '–')}${e.createdAt ? ` (${age(e.createdAt, now)} ago)` : ''}</dd>
<dt>expires</dt><dd>${e.pinned ? 'pinned (never)' : esc(e.expiresAt ?? 'never')}</dd>
<dt>asked by</dt><dd>${esc(e.requestedBy ?? '–')}${e.sourceUrl ? ` from ${link(e.sourceUrl, e.sourceUrl)}` : ''}</dd>
${e.deployed ? `<dt>deployed</dt><dd><code>${esc(e.deployed.sha.slice(0, 7))}</code> of ${esc(e.deployed.repo)} since ${esc(e.deployed.at)}</dd>\n` : ''}${input.branchUrl ? `<dt>branch</dt><dd>${link(input.branchUrl, input.name)}</dd>\n` : ''}${input.systems?.length ? `<dt>elsewhere</dt><dd>${input.systems.map((s) => link(s.url, s.label)).join(' · ')}</dd>\n` : ''}</dl>`
    : '<p>This environment no longer exists; its history follows.</p>';
  // Only the newest operation's failure is current: an older one's fix is history, not a button.
  const ops = input.operations
    .map(
      (op, index) => `<section aria-labelledby="op-${op.id}">
<h3 id="op-${op.id}">${esc(op.kind)} #${op.id} — <span class="${op.status === 'success' ? 'st-done' : op.status === 'failed' ? 'st-failed' : 'st-running'}">${esc(op.status)}</span></h3>
<p class="muted">${esc(op.trigger.source)}${op.trigger.actor ? ` by ${esc(op.trigger.actor)}${op.trigger.via === 'token' ? ' (dashboard token)' : ''}` : ''} · ${esc(new Date(op.startedAt).toISOString())}${op.trigger.url ? ` · ${link(op.trigger.url, op.trigger.url.includes('#issuecomment') ? 'comment' : 'pull request')}` : ''}${op.checkRunId && op.trigger.repo ? ` · ${link(`${web}/${op.trigger.repo}/runs/${op.checkRunId}`, 'check run')}` : ''}</p>
<ol class="steps">
${(() => {
  const logs = stepLogs(op);
  return op.steps
    .map((s) => {
      const lines = logs.get(s.step);
      const log = lines?.length
        ? `<details><summary>log of ${esc(s.step)}</summary><pre class="log" tabindex="0">${esc(lines.join('\n'))}</pre></details>`
        : '';
      return `<li><span class="st-${esc(s.status)}">${esc(s.status)}</span> <strong>${esc(s.step)}</strong> ${duration(s)}${s.detail || s.error ? ` — <span class="wrap">${esc(s.error ?? s.detail)}</span>` : ''}${log}</li>`;
    })
    .join('\n');
})()}
</ol>
${op.error ? `<p class="st-failed">${esc(op.error)}</p>${index > 0 ? '<p class="muted">Superseded by a later operation.</p>' : op.failedStep ? `<p>To resolve, ${esc(hintFor(op.kind, op.failedStep, op.error))}.${fixButton(viewer, op.envName, op.fixCommand)}</p>` : op.fixCommand ? `<p>${fixButton(viewer, op.envName, op.fixCommand)}</p>` : ''}` : ''}
</section>`,
    )
    .join('\n');
  const history = input.degraded
    ? '<p class="muted">Operation history is not available while the database is unreachable.</p>'
    : ops || '<p class="muted">No operations recorded.</p>';
  return layout(
    input.name,
    `<h2>${esc(input.name)}</h2>\n${facts}\n${e && !input.degraded ? environmentControls(viewer, input.name, e.status, input.operations[0]?.status ?? null) : ''}\n<h2>Operations</h2>\n${history}`,
    input.degraded,
    input.name,
    viewer,
    input.notice,
  );
}

export function notFoundPage(name: string, degraded: Degradation | null): string {
  return layout(
    'not found',
    `<h2>Not found</h2><p>No environment named <code>${esc(name)}</code>. <a href="/kindler">All environments</a>.</p>`,
    degraded,
  );
}
