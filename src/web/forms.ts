// The forms the console's pages post (application/x-www-form-urlencoded): the same actions as the
// API (console-api.ts), from a signed-in browser whose CSRF token the form carries.
import type http from 'node:http';
import type { ActionRuntime, PrunePreview } from '../actions/index.js';
import { messageOf } from '../domain/index.js';
import { act, commandOf, failureAnswer, mutationOf, pathName, readText } from './console-api.js';
import type { ConsoleAccess } from './principals.js';
import { same } from './sessions.js';

/**
 * A form the console's pages post (application/x-www-form-urlencoded): the same actions as the
 * API, from a signed-in browser whose CSRF token the form carries. Deleting needs the name typed
 * again (`confirm`). Answers with where to go next, or the refusal and its status.
 */
export async function formAction(
  rt: ActionRuntime,
  access: ConsoleAccess,
  req: http.IncomingMessage,
  path: string,
): Promise<
  { redirect: string } | { status: number; error: string } | { preview: PrunePreview | null } | null
> {
  const route = path.replace(/^\/kindler\//, '');
  const action = /^environments\/([^/]+)\/delete$/.test(route)
    ? mutationOf('DELETE', route.replace(/\/delete$/, ''))
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
  const body: Record<string, unknown> = {};
  for (const key of ['name', 'provider', 'ttl', 'duration'])
    if (fields.get(key)) body[key] = fields.get(key);
  if (action.verb === 'create') {
    body.portainer = fields.get('portainer') === 'on';
    body.haproxy = fields.get('haproxy') === 'on';
  }
  if (action.verb === 'prune' && fields.get('confirm')) body.confirm = fields.get('confirm');
  let name: string | null = null;
  try {
    if ('name' in action) name = pathName(action.name);
    if (action.verb === 'delete' && fields.get('confirm') !== name)
      return {
        status: 400,
        error: `To delete "${name}", type its name in the confirmation field; nothing was done.`,
      };
    const principal = { login: session.login, via: session.via };
    const { outcome } = await act(rt, access, principal, commandOf(action, body));
    if (outcome.verb === 'prune' && !outcome.confirmed) return { preview: outcome.preview };
  } catch (error) {
    const { status, error: said, fix } = failureAnswer(error);
    return { status, error: `${said}${fix ? ` (next: ${fix})` : ''}` };
  }
  if (action.verb === 'create') name = String(body.name);
  return {
    redirect:
      name && action.verb !== 'delete'
        ? `/kindler/environments/${encodeURIComponent(name)}`
        : '/kindler',
  };
}
