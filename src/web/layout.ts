// Every console page's frame: the style, the header with who is signed in, the degraded banner,
// the notice of the last action, and the live script for pages that follow operations. Every
// value is escaped by the `html` template (html.ts).
import { NOBODY, account, type Viewer } from './controls.js';
import type { Degradation } from './data.js';
import { html, Html } from './html.js';

export const CSS = Html.trusted(`
:root {
  color-scheme: light dark;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #6e7781; --line: #d0d7de;
}
* { box-sizing: border-box; }
body {
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  margin: 0 auto; max-width: 72rem; padding: 1rem;
}
header {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem;
  border-bottom: 1px solid var(--line); margin-bottom: 1rem;
}
header h1 { font-size: 1.25rem; margin: .25rem 0; }
header a { color: inherit; }
h2 { font-size: 1.05rem; margin-top: 1.75rem; }
.banner {
  border: 2px solid var(--warn); border-radius: 6px; padding: .6rem .8rem; margin: 0 0 1rem;
}
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: .25rem 0; }
th, td {
  text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  white-space: nowrap;
}
td.wrap { white-space: normal; }
.s-ready, .c-ok, .st-done, .consistent { color: var(--ok); }
.s-failed, .s-delete_failed, .c-missing, .c-orphan, .c-mismatch, .st-failed, .inconsistent {
  color: var(--bad);
}
.h-degraded { color: var(--bad); }
.h-healthy { color: var(--ok); }
.h-progressing { color: var(--warn); }
.s-creating, .s-deleting, .c-busy, .c-unknown, .st-running, .st-warning { color: var(--warn); }
.muted, .c-skipped, .c-absent, .st-skipped, .st-pending { color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
ol.steps { padding-left: 1.25rem; }
code { font-size: .9em; }
pre.log {
  max-height: 20rem; overflow: auto; background: rgba(127,127,127,.08); padding: .5rem;
  font-size: .85em;
}
form.inline { display: inline; }
summary { cursor: pointer; }
summary h2 { display: inline; }
form.update p { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.account { margin-left: auto; }
.notice { border: 2px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.notice.error { border-color: var(--bad); }
button { font: inherit; padding: .3rem .8rem; cursor: pointer; }
input, select { font: inherit; padding: .2rem .4rem; }
:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
`);

/** A page of the console outside the environments (setup). */
export const page = (title: string, body: Html): string => layout(title, body, null);

/** What the last action said: a refusal, a preview, a confirmation. */
export interface Notice {
  text: Html;
  error: boolean;
}

export function layout(
  title: string,
  body: Html,
  degraded: Degradation | null,
  /** Pages that follow operations live: the environment they show, or '' for all. */
  live?: string,
  viewer: Viewer = NOBODY,
  /** What the last action said (a refusal, a preview), shown first and announced. */
  notice?: Notice | null,
): string {
  const banner = degraded
    ? html`<div class="banner" role="alert">
        <strong>Degraded:</strong> ${degraded.reason}. Showing the CSV snapshot from
        ${degraded.snapshotAt ?? 'an unknown time'}; changes are refused until the database is back.
      </div>`
    : '';
  const said = notice
    ? html`<div
        class="notice${notice.error ? ' error' : ''}"
        role="${notice.error ? 'alert' : 'status'}"
      >
        ${notice.text}
      </div> `
    : '';
  const script =
    live === undefined
      ? ''
      : html`<p id="live" class="muted" role="status" aria-live="polite"></p>
          <script src="/kindler/assets/live.js" defer></script> `;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · kindler</title>
<link rel="icon" href="/kindler/assets/favicon.svg" type="image/svg+xml">
<style>${CSS}</style>
</head>
<body${live ? html` data-env="${live}"` : ''}>
<header><h1><a href="/kindler">kindler</a></h1><span class="muted">local Kubernetes environments,
database first</span><a href="/kindler/audit">audit</a>${account(viewer)}</header>
<main>
${banner}${said}${body}
</main>
${script}</body>
</html>
`.text;
}

export const link = (url: string | null, text: string): Html | string =>
  url && /^https?:\/\//.test(url) ? html`<a href="${url}">${text}</a>` : text;
