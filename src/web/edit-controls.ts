// An environment's nodes on its page, the console's update form and rollback buttons: each posts to
// the same action as `/env update` and `/env rollback` (console-api.ts), with the session's CSRF
// token. The form starts from what the environment has, so only what is changed changes; an empty
// time to live keeps the expiry, an empty size keeps the limits.
import { LOCAL_SITE, describeNodes, formatMemory } from '../domain/index.js';
import type { Viewer } from './controls.js';
import type { EnvironmentView } from './data.js';
import { html, type Html } from './html.js';

const csrf = (viewer: Viewer): Html =>
  html`<input type="hidden" name="csrf" value="${viewer.csrf ?? ''}" />`;

const at = (name: string, action: string) =>
  `/kindler/environments/${encodeURIComponent(name)}/${action}`;

const choice = (field: string, label: string, current: string, options: string[]): Html =>
  html`<label for="u-${field}">${label}</label>
    <select id="u-${field}" name="${field}">
      ${options.map(
        (o) => html`<option value="${o}" ${o === current ? 'selected' : ''}>${o}</option>`,
      )}
    </select>`;

/** Its nodes (how many, how big) and its site, when the view read them. */
export function nodesRow(e: EnvironmentView): Html {
  if (e.servers === null || e.agents === null) return html``;
  const nodes = describeNodes({ ...e, servers: e.servers, agents: e.agents });
  const site =
    e.site && e.site !== LOCAL_SITE
      ? html`<dt>site</dt>
          <dd>${e.site}</dd>`
      : html``;
  return html`<dt>nodes</dt>
    <dd>${nodes}</dd>
    ${site}`;
}

/** The edit form, for who may update the environment (a ready or stopped one). */
export function updateForm(viewer: Viewer, e: EnvironmentView): Html | '' {
  if (!viewer.allowed.has('update') || (e.status !== 'ready' && e.status !== 'stopped')) return '';
  const onOff = (on: boolean) => (on ? 'on' : 'off');
  return html`<details class="edit">
    <summary>Change settings</summary>
    <form method="post" action="${at(e.name, 'update')}" class="update">
      ${csrf(viewer)}
      <p>
        <label for="u-ttl">New time to live</label>
        <input id="u-ttl" name="ttl" placeholder="24h, 3d, never" size="10" />
        ${choice('portainer', 'Portainer', onOff(e.registerPortainer), ['on', 'off'])}
        ${choice('haproxy', 'HAProxy route', onOff(e.haproxyRoute), ['on', 'off'])}
      </p>
      <p>
        ${choice('provider', 'Provider', e.provider, ['k3d', 'kind'])}
        <label for="u-servers">Servers</label>
        <input
          id="u-servers"
          name="servers"
          type="number"
          min="1"
          max="5"
          value="${String(e.servers ?? 1)}"
        />
        <label for="u-agents">Agents</label>
        <input
          id="u-agents"
          name="agents"
          type="number"
          min="0"
          max="9"
          value="${String(e.agents ?? 0)}"
        />
      </p>
      <p>
        <label for="u-cpus">CPUs per node</label>
        <input
          id="u-cpus"
          name="cpus"
          inputmode="decimal"
          size="5"
          placeholder="no limit"
          value="${e.nodeCpus === null ? '' : String(e.nodeCpus)}"
        />
        <label for="u-memory">Memory per node</label>
        <input
          id="u-memory"
          name="memory"
          size="6"
          placeholder="2g"
          value="${e.nodeMemoryMib === null ? '' : formatMemory(e.nodeMemoryMib)}"
        />
      </p>
      <p>
        <input id="u-confirm" name="confirm" type="checkbox" />
        <label for="u-confirm"
          >Recreate the cluster if the provider, node count or (k3d) node memory change (what runs
          in it is lost)</label
        >
      </p>
      <p><button type="submit">Update</button></p>
    </form>
  </details>`;
}

/** A version's rollback button, for who may roll the environment back (not the current one). */
export function rollbackButton(viewer: Viewer, name: string, version: number): Html | '' {
  if (!viewer.allowed.has('rollback')) return '';
  return html`<form method="post" action="${at(name, 'rollback')}" class="inline">
    ${csrf(viewer)}<input type="hidden" name="version" value="${String(version)}" />
    <label><input name="confirm" type="checkbox" /> recreate if needed</label>
    <button type="submit">Roll back to ${String(version)}</button>
  </form>`;
}
