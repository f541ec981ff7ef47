// The forms the console's pages post (application/x-www-form-urlencoded): the same actions as the
// API (console-api.ts), from a signed-in browser whose CSRF token the form carries.
import type http from 'node:http';
import {
  isOperationOutcome,
  type ActionRuntime,
  type BatchOutcome,
  type Outcome,
} from '../actions/index.js';
import { sayBatch, sayExtend } from '../actions/say.js';
import { messageOf } from '../domain/index.js';
import { act, commandOf, failureAnswer, mutationOf, pathName, readText } from './console-api.js';
import type { Flash } from './flash.js';
import type { ConsoleAccess } from './principals.js';
import { same } from './sessions.js';

/** Where a form's POST sends the browser next, and what it carries there. */
export type FormAnswer = { redirect: string; flash?: Flash } | { status: number; error: string };

/**
 * A form the console's pages post (application/x-www-form-urlencoded): the same actions as the
 * API, from a signed-in browser whose CSRF token the form carries. Deleting needs the name typed
 * again (`confirm`). Every answer the form can act on is a redirect: to the environment or the
 * list when done, back to the form's page with the refusal (in the console's words) and what was
 * typed, to the list showing the preview for a prune preview. Without a session or its CSRF
 * token the answer is a refusal page.
 */
export async function formAction(
  rt: ActionRuntime,
  access: ConsoleAccess,
  req: http.IncomingMessage,
  path: string,
): Promise<FormAnswer | null> {
  const route = path.replace(/^\/kindler\//, '');
  // A form can only POST: /delete and /update stand for the API's DELETE and PATCH.
  const action = /^environments\/([^/]+)\/delete$/.test(route)
    ? mutationOf('DELETE', route.replace(/\/delete$/, ''))
    : /^environments\/([^/]+)\/update$/.test(route)
      ? mutationOf('PATCH', route.replace(/\/update$/, ''))
      : mutationOf('POST', route);
  if (!action) return null;
  const session = access.sessions ? await access.sessions.of(req) : null;
  if (!session) return { status: 401, error: 'Sign in first; nothing was done.' };
  let fields: URLSearchParams;
  try {
    fields = new URLSearchParams(await readText(req));
  } catch (error) {
    return { status: 400, error: messageOf(error) };
  }
  const csrf = fields.get('csrf');
  if (!csrf || !same(csrf, session.csrf))
    return {
      status: 403,
      error: 'This form has no valid CSRF token (reload the page); nothing was done.',
    };
  const typed: Record<string, string> = {};
  for (const key of ['name', 'provider', 'ttl', 'duration'])
    if (fields.get(key)) typed[key] = fields.get(key) as string;
  const body: Record<string, unknown> = { ...typed };
  if (action.verb === 'create') {
    body.portainer = fields.get('portainer') === 'on';
    body.haproxy = fields.get('haproxy') === 'on';
    typed.portainer = String(body.portainer);
    typed.haproxy = String(body.haproxy);
  }
  if (action.verb === 'prune' && fields.get('confirm')) body.confirm = fields.get('confirm');
  if (action.verb === 'update' || action.verb === 'rollback')
    Object.assign(body, changeFields(fields));
  const named = 'name' in action ? safeName(action.name) : null;
  const page = named ? `/kindler/environments/${encodeURIComponent(named)}` : '/kindler';
  const refused = (text: string): FormAnswer => ({
    redirect: page,
    flash: { text: consoleWords(text), error: true, values: typed },
  });
  if ('name' in action && named === null)
    return refused('The name in the address is not valid percent-encoding; nothing was done.');
  if (action.verb === 'delete' && fields.get('confirm') !== named)
    return refused(
      `To delete "${named}", type its name in the confirmation field; nothing was done.`,
    );
  let outcome: Outcome | BatchOutcome;
  try {
    const principal = { login: session.login, via: session.via };
    ({ outcome } = await act(rt, access, principal, commandOf(action, body)));
  } catch (error) {
    return refused(failureAnswer(error).error);
  }
  if (outcome.verb === 'batch')
    return {
      redirect: '/kindler',
      flash: { text: consoleWords(sayBatch(outcome, 'comment')), error: false },
    };
  if (outcome.verb === 'prune' && !outcome.confirmed)
    return outcome.preview
      ? { redirect: `/kindler?prune=${outcome.preview.id}` }
      : {
          redirect: '/kindler',
          flash: { text: 'Nothing to prune: every name a system holds has a row.', error: false },
        };
  // Done at once, so said at once (a cancel shows on the page: the operation and its Retry).
  if (outcome.verb === 'extend')
    return {
      redirect: page,
      flash: { text: consoleWords(sayExtend(outcome, 'comment')), error: false },
    };
  if (action.verb === 'create' && isOperationOutcome(outcome))
    return { redirect: `/kindler/environments/${encodeURIComponent(outcome.operation.envName)}` };
  return { redirect: action.verb === 'delete' || !named ? '/kindler' : page };
}

/** The update form's and a rollback button's fields as the API's body (blank: unchanged). */
function changeFields(fields: URLSearchParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of ['portainer', 'haproxy']) {
    const value = fields.get(key);
    if (value === 'on' || value === 'off') body[key] = value === 'on';
  }
  for (const key of ['servers', 'agents', 'version']) {
    const value = fields.get(key)?.trim();
    // Not a number stays a string: the API refuses it in its own words.
    if (value) body[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  const cpus = fields.get('cpus')?.trim();
  if (cpus) body.cpus = /^\d+(\.\d+)?$/.test(cpus) ? Number(cpus) : cpus;
  const memory = fields.get('memory')?.trim();
  if (memory) body.memory = memory;
  if (fields.get('confirm') === 'on') body.confirm = true;
  return body;
}

function safeName(segment: string): string | null {
  try {
    return pathName(segment);
  } catch {
    return null;
  }
}

/**
 * A refusal in the console's words: the grammar's usage line (`/env …`) is for comments and goes,
 * and code spans become quotes.
 */
export function consoleWords(text: string): string {
  return text
    .replace(/\s*Usage: `[^`]*`\s*$/, '')
    .replace(/`([^`]*)`/g, '“$1”')
    .trim();
}
