// Who asks the console, and what they may do: the local operator (KINDLER_DASHBOARD_TOKEN, every
// verb), a GitHub user by their token (checked against GitHub's /user, cached a minute) or by a
// signed-in browser's session. A GitHub user is judged exactly as their comment would be: their
// permission on the config repository and the rules of .github/kindler.yml (actions/authorize.ts).
import crypto from 'node:crypto';
import type http from 'node:http';
import { authorize } from '../actions/index.js';
import type { Decision } from '../commands/policy.js';
import type { Command, Verb } from '../commands/verbs.js';
import { messageOf, type ActorVia, type EnvName } from '../domain/index.js';
import { json } from '../server/http-server.js';
import { peerAddress } from '../server/peer.js';
import type { Store } from '../store/store.js';
import { same, type Sessions } from './sessions.js';
import type { FailureThrottle } from '../server/throttle.js';

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
      'this token is not taken: send "Authorization: Bearer <token>" with ' +
      'KINDLER_DASHBOARD_TOKEN or a GitHub user token',
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

/** The verbs of `verbs` this principal may use on `name` (what the page offers). */
export async function allowedVerbs(
  store: Pick<Store, 'latestOperation' | 'activeOperation'>,
  access: ConsoleAccess,
  principal: Principal | null,
  verbs: Verb[],
  name: string | null,
): Promise<Set<Verb>> {
  if (!principal) return new Set();
  const allowed = new Set<Verb>();
  for (const verb of verbs) {
    const command = { verb, ...(name ? { name: name as EnvName } : {}) };
    if ((await judgeFor(store, access, principal, command)).allowed) allowed.add(verb);
  }
  return allowed;
}

/**
 * The principal's judge of one verb on one environment (or none): the local operator may do
 * everything; a GitHub user is judged as their comment would be. What a verb also stands for
 * (a retry, an extend) is `authorize`'s.
 */
export function decideFor(
  access: ConsoleAccess,
  principal: Principal,
): (verb: Verb, name: string | null) => Promise<Decision> {
  if (principal.via === 'token') return async () => ({ allowed: true });
  const { decide } = access;
  if (!decide)
    return async () => ({
      allowed: false,
      rule: 'no config repository',
      message: 'GitHub users are judged on KINDLER_CONFIG_REPO, which is not set',
    });
  return (verb, name) => decide(principal.login, verb, name);
}

/** The command judged for the principal, by the one rule (`authorize`). */
export function judgeFor(
  store: Pick<Store, 'latestOperation' | 'activeOperation'>,
  access: ConsoleAccess,
  principal: Principal,
  command: Pick<Command, 'verb'> & { name?: EnvName },
): Promise<Decision> {
  const decide = decideFor(access, principal);
  return authorize(command, (verb) => decide(verb, command.name ?? null), store);
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
