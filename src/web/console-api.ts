// The console's mutations, on the same actions, permissions and records as comments and the CLI:
//   POST   /kindler/api/environments        {name, provider?, ttl?, portainer?, haproxy?, servers?,
//                                             agents?, cpus?, memory?, labels?, site?, where?}
//   PATCH  /kindler/api/environments/<name> {ttl?, portainer?, haproxy?, provider?, servers?,
//                                             agents?, cpus?, memory?, labels?, confirm?}
//   DELETE /kindler/api/environments/<name>
//   POST   /kindler/api/environments/<name>/{retry,cancel,extend,stop,start,rollback}
//                                             extend: {duration?}; rollback: {version?, confirm?}
//   POST   /kindler/api/consistency/{check,sync,prune}                        prune: {confirm?}
// Who asks is principals.ts's question; the pages post forms to the same actions (forms.ts).
// Answers: 202 with the operation(s) for accepted work, 200 for what is done at once (extend,
// check, a prune preview with its id), 400 with the refusal in the API's words, 401 without a
// credential, 403 naming the rule that refused, 404 for an unknown environment, 409 when an
// operation already runs or there is nothing to do. A request body is at most 16 KB. A prune is
// confirmed by the id its preview gave: {"confirm": "<id>"}.
import type http from 'node:http';
import {
  batch,
  contextOf,
  isOperationOutcome,
  perform,
  type ActionRuntime,
  type BatchOutcome,
  type Outcome,
} from '../actions/index.js';
import { isBatch, type Command } from '../commands/verbs.js';
import {
  Failure,
  classify,
  messageOf,
  spell,
  type EnvName,
  type Trigger,
} from '../domain/index.js';
import { json } from '../server/http-server.js';
import {
  bearerPrincipal,
  decideFor,
  judgeFor,
  refuse,
  type ConsoleAccess,
  type Principal,
} from './principals.js';
import { same } from './sessions.js';
import { commandOf, mutationOf, pathName } from './api-commands.js';

export { commandOf, mutationOf, pathName };

const BODY_LIMIT = 16_384;

type ConsoleDeps = ActionRuntime;

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
            'a change from a signed-in browser carries its CSRF token ' +
            '(x-csrf-token); nothing was done',
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
          'who is asking? Send "Authorization: Bearer <token>": KINDLER_DASHBOARD_TOKEN, or ' +
          'a GitHub user token',
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
      const answer = await act(rt, access, principal, commandOf(target, body));
      json(res, answer.status, answer.body);
    } catch (error) {
      const { status, ...said } = failureAnswer(error);
      json(res, status, said);
    }
    return true;
  };
}

export const STATUS: Partial<Record<Failure['code'], number>> = {
  invalid_input: 400,
  not_found: 404,
  busy: 409,
  already_exists: 409,
  nothing_to_do: 409,
  forbidden: 403,
  not_configured: 409,
};

export async function readText(req: http.IncomingMessage): Promise<string> {
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

/** Authorises the command for the principal, runs its action, and answers it as the API does. */
export async function act(
  rt: ConsoleDeps,
  access: ConsoleAccess,
  principal: Principal,
  command: Command,
): Promise<{ status: number; body: unknown; outcome: Outcome | BatchOutcome }> {
  const named = 'name' in command ? { name: command.name as EnvName } : {};
  const decision = await judgeFor(rt.store, access, principal, { verb: command.verb, ...named });
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
  if (isBatch(command)) {
    // Each environment judged as a command naming it would be (a rule for `prod-*` holds here).
    const judge = decideFor(access, principal);
    const outcome = await batch(command, { ...contextOf(rt, trigger), judge });
    const status = outcome.confirmed && !outcome.cancelled ? 202 : 200;
    return { status, body: { batch: outcome }, outcome };
  }
  const outcome = await perform(command, contextOf(rt, trigger));
  return { ...apiAnswer(outcome), outcome };
}

/** An outcome as the API says it. */
function apiAnswer(outcome: Outcome): { status: number; body: unknown } {
  if (isOperationOutcome(outcome)) return { status: 202, body: { operation: outcome.operation } };
  switch (outcome.verb) {
    case 'cancel':
      return { status: 202, body: { operation: outcome.operation } };
    case 'extend':
      return { status: 200, body: { environment: outcome.environment } };
    case 'check':
      return { status: 200, body: { report: outcome.report } };
    case 'sync':
      return { status: 202, body: { operations: outcome.operations, actions: outcome.actions } };
    case 'prune':
      return outcome.confirmed
        ? {
            status: 202,
            body: { confirmed: true, operations: outcome.operations, actions: outcome.actions },
          }
        : {
            status: 200,
            body: { confirmed: false, preview: outcome.preview, actions: outcome.actions },
          };
    default:
      throw new Failure('invalid_input', `${outcome.verb} is not something the console changes`);
  }
}

/**
 * A refusal as the API says it: its status and words (with the next command, when there is one).
 */
export function failureAnswer(error: unknown): { status: number; error: string; fix?: string } {
  if (classify(error) !== 'failure') throw error;
  const failure = error as Failure;
  return {
    status: STATUS[failure.code] ?? 400,
    error: failure.message,
    ...(failure.fix ? { fix: spell(failure.fix, 'comment') } : {}),
  };
}
