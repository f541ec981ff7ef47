// The console's mutations, on the same engine, permissions and records as comments and the CLI:
//   POST   /kindler/api/environments                  {name, provider?, ttl?, portainer?, haproxy?}
//   DELETE /kindler/api/environments/<name>
//   POST   /kindler/api/environments/<name>/{retry,cancel,extend,stop,start}   extend: {duration?}
//   POST   /kindler/api/consistency/{check,sync,prune}                        prune: {confirm?, names?}
// Who asks: `Authorization: Bearer <KINDLER_DASHBOARD_TOKEN>` (the local operator, every verb), or
// `Bearer <a GitHub user token>` (checked against GitHub's /user, cached a minute), or a signed-in
// browser's session whose CSRF token the request carries (header `x-csrf-token`, or the form's
// `csrf` field); a GitHub user is judged exactly as their comment would be: their permission on
// the config repository and the rules of .github/kindler.yml. The console's pages post forms to
// the same actions (`formAction`), and show only the controls `allowedVerbs` allows. Answers: 202 with the operation(s) for accepted work, 200 for what is done
// at once (extend, check, a prune preview), 400 with the refusal `/env` would give, 401 without a
// credential, 403 naming the rule that refused, 404 for an unknown environment, 409 when an
// operation already runs or there is nothing to do. A request body is at most 16 KB.
import crypto from 'node:crypto';
import type http from 'node:http';
import { parseArgs } from '../commands/parse.js';
import type { Decision } from '../commands/policy.js';
import type { Command, Verb } from '../commands/verbs.js';
import { sharedCheck } from '../consistency/shared-check.js';
import {
  previewPrune,
  requestPrunes,
  requestSyncs,
  type RepairDeps,
} from '../consistency/repair.js';
import {
  Failure,
  checkEnvName,
  classify,
  extendedExpiry,
  messageOf,
  spell,
  type EnvName,
  type Operation,
  type Trigger,
  type ActorVia,
  notFound,
} from '../domain/index.js';
import { judge } from '../github/authority.js';
import { requestOf } from '../lifecycle/engine-api.js';
import { json } from '../server/http-server.js';
import { peerAddress } from '../server/peer.js';
import { same, type Sessions } from './sessions.js';
import type { FailureThrottle } from './throttle.js';

/** Who a request is from. */
export interface Principal {
  login: string;
  /** The local operator's token, or a GitHub user's. */
  via: Extract<ActorVia, 'token' | 'github'>;
}

/** The local operator (KINDLER_DASHBOARD_TOKEN): recorded as this login with `via: token`. */
export const OPERATOR: Principal = { login: 'operator', via: 'token' };

/** A credential that was offered and not taken: the answer to give. */
export interface Refusal {
  status: 401 | 403 | 429 | 503;
  error: string;
  retryAfter?: number;
}

export interface ConsoleAccess {
  /** KINDLER_DASHBOARD_TOKEN: whoever holds it may do everything (local use). */
  token?: string | undefined;
  /** The GitHub login a user token belongs to, or null when GitHub does not take it. */
  githubLogin?: (token: string) => Promise<string | null>;
  /** The decision for a GitHub user, as for their comment in the config repository. */
  decide?: (login: string, verb: Verb, envName: string | null) => Promise<Decision>;
  /** Signed-in browsers. */
  sessions?: Sessions;
  /** Wrong tokens counted per address (429 past the limit). */
  throttle?: FailureThrottle;
}

/** At most this many sync or prune operations per request, as for a comment. */
const MAX_REPAIRS = 10;
const BODY_LIMIT = 16_384;

type ConsoleDeps = RepairDeps;

export function consoleApi(rt: ConsoleDeps, access: ConsoleAccess) {
  /** The mutation at `route` (below /kindler/api/), answered; false when no mutation is there. */
  return async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: string,
  ): Promise<boolean> => {
    const target = mutationOf(req.method ?? 'GET', route);
    if (!target) return false;
    const session =
      access.sessions && !req.headers.authorization ? await access.sessions.of(req) : null;
    if (session) {
      const offered = req.headers['x-csrf-token'];
      if (typeof offered !== 'string' || !same(offered, session.csrf)) {
        json(res, 403, {
          error:
            'a change from a signed-in browser carries its CSRF token (x-csrf-token); nothing was done',
        });
        return true;
      }
    }
    const bearer = session ? null : await bearerPrincipal(req, access);
    if (bearer && 'status' in bearer) {
      refuse(res, bearer);
      return true;
    }
    const principal = session ? { login: session.login, via: session.via } : bearer;
    if (!principal) {
      json(res, 401, {
        error:
          'who is asking? Send "Authorization: Bearer <token>": KINDLER_DASHBOARD_TOKEN, or a GitHub user token',
      });
      return true;
    }
    let body: Record<string, unknown>;
    try {
      body = await readBody(req);
    } catch (error) {
      json(res, 400, { error: messageOf(error) });
      return true;
    }
    try {
      const answer = await perform(rt, access, principal, target, body);
      json(res, answer.status, answer.body);
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      const failure = error as Failure;
      json(res, STATUS[failure.code] ?? 400, {
        error: failure.message,
        ...(failure.fix ? { fix: spell(failure.fix, 'comment') } : {}),
      });
    }
    return true;
  };
}

const STATUS: Partial<Record<Failure['code'], number>> = {
  invalid_input: 400,
  not_found: 404,
  busy: 409,
  already_exists: 409,
  nothing_to_do: 409,
  forbidden: 403,
  not_configured: 409,
};

export type Target =
  | { verb: 'create' }
  | { verb: 'delete' | 'retry' | 'cancel' | 'extend' | 'stop' | 'start'; name: string }
  | { verb: 'check' | 'sync' | 'prune' };

export function mutationOf(method: string, route: string): Target | null {
  if (method === 'POST' && route === 'environments') return { verb: 'create' };
  const one = /^environments\/([^/]+)$/.exec(route);
  if (method === 'DELETE' && one) return { verb: 'delete', name: one[1] as string };
  const act = /^environments\/([^/]+)\/(retry|cancel|extend|stop|start)$/.exec(route);
  if (method === 'POST' && act) return { verb: act[2] as 'retry', name: act[1] as string };
  const repair = /^consistency\/(check|sync|prune)$/.exec(route);
  if (method === 'POST' && repair) return { verb: repair[1] as 'check' };
  return null;
}

/**
 * Who an `Authorization: Bearer` header says the request is from: the local operator (the
 * dashboard token, compared in constant time) or the GitHub user a user token belongs to. Null
 * without the header; a refusal for a token nobody takes (counted against the address), for an
 * address that has guessed too often, or when GitHub cannot be asked.
 */
export async function bearerPrincipal(
  req: http.IncomingMessage,
  access: ConsoleAccess,
): Promise<Principal | Refusal | null> {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const address = peerAddress(req);
  const wait = access.throttle?.blocked(address) ?? 0;
  if (wait) return tooMany(wait);
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (token && access.token && same(token, access.token)) return OPERATOR;
  let login: string | null;
  try {
    login = token && access.githubLogin ? await access.githubLogin(token) : null;
  } catch (error) {
    return {
      status: 503,
      error: `GitHub could not be asked who this token is: ${messageOf(error)}`,
    };
  }
  if (login) return { login, via: 'github' };
  access.throttle?.fail(address);
  return {
    status: 401,
    error:
      'this token is not taken: send "Authorization: Bearer <token>" with KINDLER_DASHBOARD_TOKEN or a GitHub user token',
  };
}

export const tooMany = (seconds: number): Refusal => ({
  status: 429,
  error: `too many wrong tokens from this address; try again in ${seconds} s`,
  retryAfter: seconds,
});

/** Answers a refused credential as JSON. */
export function refuse(res: http.ServerResponse, refusal: Refusal): void {
  if (refusal.retryAfter) res.setHeader('retry-after', String(refusal.retryAfter));
  json(res, refusal.status, { error: refusal.error });
}

async function readText(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error(`the body is over ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readText(req);
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('the body is not a JSON object');
  return value as Record<string, unknown>;
}

/** One word of a command line: a string without spaces or backticks, or the refusal. */
function word(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[^\s`]+$/.test(value))
    throw new Failure('invalid_input', `"${key}" must be one word (a string without spaces)`);
  return value;
}

function flag(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new Failure('invalid_input', `"${key}" must be true or false`);
  return value;
}

/** The name a path segment carries, or the refusal of its malformed percent-encoding. */
function pathName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Failure('invalid_input', 'the name in the path is not valid percent-encoding');
  }
}

/** The command a request stands for, read by the same parser as `/env`: the same refusals. */
function commandOf(target: Target, body: Record<string, unknown>): Command {
  const words: string[] = [target.verb];
  if ('name' in target) {
    const name = pathName(target.name);
    if (!/^[^\s`]+$/.test(name)) throw new Failure('invalid_input', `"${name}" is not a name`);
    words.push(name);
  }
  if (target.verb === 'create') {
    const name = word(body, 'name');
    if (!name) throw new Failure('invalid_input', '"name" is required');
    words.push(name);
    const provider = word(body, 'provider');
    if (provider) words.push(provider);
    const ttl = word(body, 'ttl');
    if (ttl) words.push('--ttl', ttl);
    if (flag(body, 'portainer') === false) words.push('--no-portainer');
    if (flag(body, 'haproxy') === false) words.push('--no-haproxy');
  }
  if (target.verb === 'extend') {
    const duration = word(body, 'duration');
    if (duration) words.push(duration);
  }
  const parsed = parseArgs(words);
  if ('message' in parsed) throw new Failure('invalid_input', parsed.message);
  return parsed.command;
}

export async function perform(
  rt: ConsoleDeps,
  access: ConsoleAccess,
  principal: Principal,
  target: Target,
  body: Record<string, unknown>,
): Promise<{ status: number; body: unknown }> {
  const command =
    target.verb === 'check' || target.verb === 'sync' || target.verb === 'prune'
      ? ({ verb: target.verb, ...(target.verb === 'prune' ? { confirm: false } : {}) } as Command)
      : commandOf(target, body);
  const name = 'name' in command ? (command.name as EnvName) : null;
  // Judged as a comment is: retry and cancel as what they resume or stop, extend as create.
  const decision = await judgeFor(rt, access, principal, command.verb, name);
  if (!decision.allowed) throw new Failure('forbidden', decision.message.replace(/^@\S+, /, ''));
  const trigger: Trigger = {
    source: 'dashboard',
    actor: principal.login,
    via: principal.via,
    url: null,
    repo: null,
    issueNumber: null,
    headSha: null,
  };
  const accepted = (op: Operation) => ({ status: 202, body: { operation: op } });
  switch (command.verb) {
    case 'create':
    case 'delete':
    case 'stop':
    case 'start':
      return accepted(await rt.engine.request(requestOf(command, trigger)));
    case 'retry':
      return accepted(await rt.engine.retry(command.name, trigger));
    case 'cancel': {
      const op = await rt.engine.cancel(command.name);
      if (!op)
        throw new Failure(
          'nothing_to_do',
          `nothing to cancel: "${command.name}" has no queued or running operation`,
        );
      return accepted(op);
    }
    case 'extend': {
      const env = await rt.store.getEnvironment(command.name);
      if (!env) throw notFound(command.name);
      const until = extendedExpiry(env.expiresAt, command.durationMs);
      return {
        status: 200,
        body: { environment: await rt.store.updateEnvironment(env.name, { expiresAt: until }) },
      };
    }
    case 'check':
      return { status: 200, body: { report: await sharedCheck(rt).get() } };
    case 'sync': {
      const plan = await requestSyncs(rt, { trigger, limit: MAX_REPAIRS });
      return { status: 202, body: { operations: plan.operations, actions: plan.actions } };
    }
    case 'prune': {
      const confirm = flag(body, 'confirm') === true;
      if (!confirm) {
        const plan = await previewPrune(rt, {});
        return { status: 200, body: { confirmed: false, actions: plan.actions } };
      }
      const names = body.names;
      if (!Array.isArray(names) || names.length === 0)
        throw new Failure(
          'invalid_input',
          '"names" is required with "confirm": the names a preview listed; only those still orphaned are removed',
        );
      const checked = names.map((n) => {
        const c = checkEnvName(typeof n === 'string' ? n : '');
        if (!c.ok) throw new Failure('invalid_input', c.reason);
        return c.name;
      });
      const plan = await requestPrunes(rt, {
        names: checked,
        stillOrphaned: true,
        trigger,
        limit: MAX_REPAIRS,
      });
      return {
        status: 202,
        body: { confirmed: true, operations: plan.operations, actions: plan.actions },
      };
    }
    default:
      throw new Failure('invalid_input', `${command.verb} is not something the console changes`);
  }
}

/**
 * A form the console's pages post (application/x-www-form-urlencoded): the same actions as the
 * API, from a signed-in browser whose CSRF token the form carries. Deleting needs the name typed
 * again (`confirm`). Answers with where to go next, or the refusal and its status.
 */
export async function formAction(
  rt: ConsoleDeps,
  access: ConsoleAccess,
  req: http.IncomingMessage,
  path: string,
): Promise<
  { redirect: string } | { status: number; error: string } | { preview: string[] } | null
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
  if (action.verb === 'prune') {
    body.confirm = fields.get('confirm') === 'yes';
    if (body.confirm) body.names = fields.getAll('names');
  }
  let name: string | null = null;
  try {
    if ('name' in action) name = pathName(action.name);
    if (action.verb === 'delete' && fields.get('confirm') !== name)
      return {
        status: 400,
        error: `To delete "${name}", type its name in the confirmation field; nothing was done.`,
      };
    const done = await perform(
      rt,
      access,
      { login: session.login, via: session.via },
      action,
      body,
    );
    if (action.verb === 'prune' && !body.confirm) {
      const actions = (done.body as { actions: { name: string }[] }).actions;
      return { preview: [...new Set(actions.map((a) => a.name))] };
    }
  } catch (error) {
    if (classify(error) !== 'failure') throw error;
    const failure = error as Failure;
    return {
      status: STATUS[failure.code] ?? 400,
      error: `${failure.message}${failure.fix ? ` (next: ${spell(failure.fix, 'comment')})` : ''}`,
    };
  }
  if (action.verb === 'create') name = String(body.name);
  return {
    redirect:
      name && action.verb !== 'delete'
        ? `/kindler/environments/${encodeURIComponent(name)}`
        : '/kindler',
  };
}

/** The verbs of `verbs` this principal may use on `name` (what the page offers). */
export async function allowedVerbs(
  rt: ConsoleDeps,
  access: ConsoleAccess,
  principal: Principal | null,
  verbs: Verb[],
  name: string | null,
): Promise<Set<Verb>> {
  if (!principal) return new Set();
  const allowed = new Set<Verb>();
  for (const verb of verbs)
    if ((await judgeFor(rt, access, principal, verb, name as EnvName | null)).allowed)
      allowed.add(verb);
  return allowed;
}

/** The local operator may do everything; a GitHub user is judged as their comment would be. */
export function judgeFor(
  rt: ConsoleDeps,
  access: ConsoleAccess,
  principal: Principal,
  verb: Verb,
  name: EnvName | null,
): Promise<Decision> {
  if (principal.via === 'token') return Promise.resolve({ allowed: true });
  const { decide } = access;
  if (!decide)
    return Promise.resolve({
      allowed: false,
      rule: 'no config repository',
      message: 'GitHub users are judged on KINDLER_CONFIG_REPO, which is not set',
    });
  return judge(rt.store, (judged) => decide(principal.login, judged, name), verb, name);
}

/**
 * The GitHub login of a user token, asked of GitHub's `/user` and kept a minute (a revoked token
 * stops working within that): null when GitHub does not take it. At most 1,000 tokens are kept,
 * by their hash only.
 */
export function githubUserLookup(
  apiBase: string,
  fetchFn: typeof fetch = fetch,
  ttlMs = 60_000,
): (token: string) => Promise<string | null> {
  const seen = new Map<string, { login: string | null; until: number }>();
  return async (token) => {
    const key = crypto.createHash('sha256').update(token).digest('hex');
    const known = seen.get(key);
    if (known && known.until > Date.now()) return known.login;
    const res = await fetchFn(`${apiBase}/user`, {
      headers: {
        authorization: `token ${token}`,
        accept: 'application/vnd.github+json',
        'user-agent': 'kindler-bot',
      },
    });
    if (res.status >= 500) throw new Error(`GitHub answered ${res.status} to /user`);
    const body = res.ok ? ((await res.json()) as { login?: unknown }) : null;
    const login = typeof body?.login === 'string' ? body.login : null;
    if (seen.size >= 1000) seen.delete(seen.keys().next().value as string);
    seen.set(key, { login, until: Date.now() + ttlMs });
    return login;
  };
}
