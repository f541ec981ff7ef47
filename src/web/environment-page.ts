// One environment's page: its facts, its controls, its operations with their steps and logs.
import type { HistoryOutcome } from '../actions/history.js';
import { describeChanges, type Operation, type StepState } from '../domain/index.js';
import { hintFor } from '../lifecycle/hints.js';
import { NOBODY, environmentControls, fixButton, type Viewer } from './controls.js';
import { nodesRow, rollbackButton, updateForm } from './edit-controls.js';
import type { Degradation, EnvironmentView } from './data.js';
import type { Html } from './html.js';
import { html, joinHtml } from './html.js';
import { age, scrollTable, when } from './sections.js';
import { layout, link, type Notice } from './layout.js';

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

export const duration = (s: StepState) =>
  s.startedAt && s.completedAt
    ? `${((+new Date(s.completedAt) - +new Date(s.startedAt)) / 1000).toFixed(1)} s`
    : '';

export const STATUS_CLASS: Record<string, string> = { success: 'st-done', failed: 'st-failed' };

/** One operation: who asked and where, its steps with their logs, and its failure. */
export function operationSection(
  op: Operation,
  current: boolean,
  viewer: Viewer,
  web: string,
  now: Date = new Date(),
): Html {
  const asked = op.trigger.actor
    ? html` by ${op.trigger.actor}${op.trigger.via === 'token' ? ' (dashboard token)' : ''}`
    : '';
  const url = op.trigger.url;
  const where = url
    ? html` · ${link(url, url.includes('#issuecomment') ? 'comment' : 'pull request')}`
    : '';
  const run =
    op.checkRunId && op.trigger.repo
      ? html` · ${link(`${web}/${op.trigger.repo}/runs/${op.checkRunId}`, 'check run')}`
      : '';
  const took = op.completedAt
    ? ` · took ${((+new Date(op.completedAt) - +new Date(op.startedAt)) / 1000).toFixed(1)} s`
    : '';
  const logs = stepLogs(op);
  const steps = op.steps.map((s) => {
    const lines = logs.get(s.step);
    const log = lines?.length
      ? html`<details>
          <summary>log of ${s.step}</summary>
          <pre class="log" tabindex="0">${lines.join('\n')}</pre>
        </details>`
      : '';
    const said =
      s.detail || s.error ? html` — <span class="wrap">${s.error ?? s.detail}</span>` : '';
    return html`<li>
      <span class="st-${s.status}">${s.status}</span>
      <strong>${s.step}</strong> ${duration(s)}${said}${log}
    </li>`;
  });
  // Only the newest operation's failure is current: an older one's fix is history, not a button.
  const fix = !current
    ? html`<p class="muted">Superseded by a later operation.</p>`
    : op.failedStep
      ? html`<p>
          To resolve, ${hintFor(op.kind, op.failedStep, op.error)}.
          ${fixButton(viewer, op.envName, op.fixCommand)}
        </p>`
      : op.fixCommand
        ? html`<p>${fixButton(viewer, op.envName, op.fixCommand)}</p>`
        : '';
  const failure = op.error
    ? html`<p class="st-failed">${op.error}</p>
        ${fix}`
    : '';
  return html`<section aria-labelledby="op-${op.id}">
    <h3 id="op-${op.id}">
      ${op.kind} #${op.id} —
      <span class="${STATUS_CLASS[op.status] ?? 'st-running'}">${op.status}</span>
    </h3>
    <p class="muted">
      ${op.trigger.source}${asked} ·
      ${when(new Date(op.startedAt).toISOString(), now)}${took}${where}${run}
    </p>
    <ol class="steps">
      ${joinHtml(steps)}
    </ol>
    ${failure}
  </section>`;
}

export function environmentPage(input: {
  name: string;
  environment: EnvironmentView | null;
  operations: Operation[];
  /** Its configuration's versions, newest first. */
  versions?: HistoryOutcome['versions'];
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
    ? environmentFacts(e, input, now)
    : html`<p>This environment no longer exists; its history follows.</p>`;
  const ops = input.operations.map((op, index) =>
    operationSection(op, index === 0, viewer, web, now),
  );
  // The latest operation open; the ones before it folded, a click away.
  const older =
    ops.length > 1
      ? html`<details class="history">
          <summary>${ops.length - 1} earlier operation${ops.length === 2 ? '' : 's'}</summary>
          ${joinHtml(ops.slice(1))}
        </details>`
      : '';
  const history = input.degraded
    ? html`<p class="muted">
        Operation history is not available while the database is unreachable.
      </p>`
    : ops.length
      ? html`${ops[0]!}${older}`
      : html`<p class="muted">No operations recorded.</p>`;
  const last = input.operations[0]?.status ?? null;
  const controls =
    e && !input.degraded ? environmentControls(viewer, input.name, e.status, last) : '';
  const body = html`<h2>${input.name}</h2>
    ${facts} ${e ? access(e, viewer) : ''} ${controls}
    ${e && !input.degraded ? updateForm(viewer, e) : ''}
    <h2>Operations</h2>
    ${history} ${versionsSection(input.name, input.versions ?? [], e ? viewer : NOBODY)}`;
  return layout(input.name, body, input.degraded, input.name, viewer, input.notice);
}

/** An environment's facts: where it answers, its ports, who asked, what it deploys, where else. */
export function environmentFacts(
  e: EnvironmentView,
  input: { name: string; branchUrl?: string | null; systems?: { label: string; url: string }[] },
  now: Date,
): Html {
  const status = e.status ?? 'unknown';
  const created = e.createdAt ? html` (${age(e.createdAt, now)} ago)` : '';
  const from = e.sourceUrl ? html` from ${link(e.sourceUrl, e.sourceUrl)}` : '';
  const deployed = e.deployed
    ? html`<dt>deployed</dt>
        <dd>
          <code>${e.deployed.sha.slice(0, 7)}</code> of ${e.deployed.repo} since ${e.deployed.at}
        </dd> `
    : '';
  const branch = input.branchUrl
    ? html`<dt>branch</dt>
        <dd>${link(input.branchUrl, input.name)}</dd> `
    : '';
  const elsewhere = input.systems?.length
    ? html`<dt>elsewhere</dt>
        <dd>
          ${joinHtml(
            input.systems.map((s) => link(s.url, s.label)),
            ' · ',
          )}
        </dd> `
    : '';
  return html`<dl>
    <dt>provider</dt>
    <dd>${e.provider}</dd>
    <dt>status</dt>
    <dd class="s-${status}">${status}</dd>
    <dt>health</dt>
    <dd class="h-${e.health?.health ?? 'none'}">${healthText(e)}</dd>
    <dt>url</dt>
    <dd>${link(e.url, e.url)}</dd>
    <dt>ports</dt>
    <dd>
      http ${e.httpPort} · https ${e.httpsPort} · port-forward ${e.pfPort} · node ${e.nodePort}
    </dd>
    <dt>subnet</dt>
    <dd>${e.subnet ?? '–'}</dd>
    ${nodesRow(e)}
    <dt>created</dt>
    <dd>${e.createdAt ?? '–'}${created}</dd>
    <dt>expires</dt>
    <dd>${e.pinned ? 'pinned (never)' : (e.expiresAt ?? 'never')}</dd>
    <dt>asked by</dt>
    <dd>${e.requestedBy ?? '–'}${from}</dd>
    ${deployed}${branch}${elsewhere}
  </dl>`;
}

/** An environment's health: the state, since when and why, then each part observed. */
function healthText(env: EnvironmentView): Html {
  const h = env.health;
  if (!h) return html`not observed yet (the reconcile loop looks every KINDLER_DRIFT_INTERVAL)`;
  const parts = h.parts
    .filter((p) => p.state !== 'skipped')
    .map((p) => {
      const ms = p.latencyMs === undefined ? '' : ` (${p.latencyMs} ms)`;
      return html`<li>${p.system}: ${p.state} — ${p.detail}${ms}</li>`;
    });
  const list = parts.length
    ? html`<ul>
        ${joinHtml(parts, '')}
      </ul>`
    : '';
  return html`${h.health} since ${h.since}: ${h.reason}${list}`;
}

/** How to reach the cluster: its kubectl context, and its kubeconfig for who may change it. */
function access(e: EnvironmentView, viewer: Viewer): Html {
  const context = `${e.provider}-${e.name}`;
  const download = viewer.allowed.has('delete')
    ? html` ·
        <a href="/kindler/environments/${encodeURIComponent(e.name)}/kubeconfig" download
          >download its kubeconfig</a
        >`
    : '';
  return html`<p>
    <code>kubectl --context ${context} get pods -A</code> (or
    <code>kindler kubeconfig ${e.name}</code>)${download}
  </p>`;
}

const VERSION_HEADINGS = ['version', 'when', 'by', 'via', 'what changed', ''];

/**
 * The configuration's versions, folded: each with when, who, where and what it changed, and (for
 * who may) a rollback to each earlier one.
 */
function versionsSection(
  name: string,
  versions: HistoryOutcome['versions'],
  viewer: Viewer,
): Html | '' {
  if (versions.length === 0) return '';
  const rows = versions.map(
    (v, i) =>
      html`<tr>
        <th scope="row">${v.version}</th>
        <td>${when(v.at.toISOString(), new Date())}</td>
        <td>${v.actor ?? '–'}</td>
        <td>${v.source}</td>
        <td class="wrap">${describeChanges(v.changes, v.version === 1)}</td>
        <td>${i === 0 ? 'current' : rollbackButton(viewer, name, v.version)}</td>
      </tr>`,
  );
  return html`<details class="history" id="versions">
    <summary>
      <h2>History</h2>
      (${versions.length} version${versions.length === 1 ? '' : 's'})
    </summary>
    ${scrollTable('configuration versions, newest first', VERSION_HEADINGS, rows)}
  </details>`;
}
