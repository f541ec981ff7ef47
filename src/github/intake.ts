// The webhook endpoint: what GitHub's delivery goes through before the app sees it.
import { z } from 'zod';
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Probot } from 'probot';
import { HANDLED_EVENTS, plainError, receiveDelivery } from './app.js';
import type { Delivery, OperationQueue } from '../queue/operation-queue.js';
import { json } from '../server/http-server.js';
import { peerAddress } from '../server/peer.js';
import { BodyBudget } from './webhook-budget.js';

/** HMAC-SHA256 of the raw body against `sha256=<hex>`, in constant time. */
export function signatureMatches(raw: Buffer, header: string, secret: string): boolean {
  const expected = Buffer.from(
    `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`,
  );
  const given = Buffer.from(header);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** Answers and stops reading: the rest of the body is not kept, the connection is closed. */
function refuseBody(
  res: http.ServerResponse,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  res.shouldKeepAlive = false;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('connection', 'close');
  json(res, status, { error });
}
/**
 * Deliveries handled at once by this process (each is a few GitHub calls, throttled by Octokit).
 */
export const DELIVERY_CONCURRENCY = 8;

/** The process's body budget (webhook-budget.ts): shared by every request to the endpoint. */
const BUDGET = new BodyBudget();

const EVENT = /^[a-z_]{1,64}$/;
const DELIVERY_ID = /^[A-Za-z0-9._-]{1,100}$/;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * The webhook endpoint. Before a byte of the body is read: the headers must have GitHub's shape
 * (an event name, a delivery id, `x-hub-signature-256: sha256=<64 hex>`), the length must be
 * declared and at most 25 MB, and the budget must have room for it (webhook-budget.ts); a body
 * that stops arriving is cut. Then the signature is checked against the raw body
 * (WEBHOOK_SECRET); a delivery that cannot carry work for us — a comment without `/env`, an event
 * we do not handle — is answered at once; any other is stored in the durable queue and answered
 * 202, and the app handles it from there (its GitHub calls never hold up the answer). When the
 * database is unreachable the app handles the delivery in the request instead: `/env list|status`
 * answer from the CSV snapshot.
 */
export async function receiveWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  probot: Probot,
  queue: OperationQueue,
  secret: string,
  budget: BodyBudget = BUDGET,
): Promise<void> {
  if (req.method !== 'POST') return json(res, 405, { error: 'webhooks are POSTed' });
  const header = (h: string) => (typeof req.headers[h] === 'string' ? req.headers[h] : null);
  const name = header('x-github-event');
  const id = header('x-github-delivery');
  const signature = header('x-hub-signature-256');
  if (!name || !id || !signature)
    return refuseBody(res, 400, 'missing x-github-event, x-github-delivery or x-hub-signature-256');
  if (!EVENT.test(name) || !DELIVERY_ID.test(id) || !SIGNATURE.test(signature))
    return refuseBody(
      res,
      400,
      'x-github-event, x-github-delivery or x-hub-signature-256 is not what GitHub sends ' +
        '(sha256=<64 hex digits>)',
    );
  const length = header('content-length');
  if (length === null || !/^\d{1,9}$/.test(length))
    return refuseBody(res, 411, 'a delivery declares its Content-Length');
  const declared = Number(length);
  if (declared > budget.limits.maxBody) return refuseBody(res, 413, 'payload larger than 25 MB');
  const reserved = budget.reserve(peerAddress(req), declared);
  if ('refused' in reserved) return refuseBody(res, 503, reserved.refused, { 'retry-after': '5' });
  let raw: Buffer | 'slow' | 'gone';
  try {
    raw = await budget.read(req, declared);
  } finally {
    reserved.release();
  }
  if (raw === 'gone') return;
  if (raw === 'slow') {
    refuseBody(res, 408, 'the body did not arrive in time');
    req.destroy();
    return;
  }
  // GitHub signs the bytes it sends: verify those, not a decoding of them.
  if (!signatureMatches(raw, signature, secret)) {
    return json(res, 400, { error: 'signature does not match the payload: check WEBHOOK_SECRET' });
  }
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return json(res, 400, { error: 'the payload is not UTF-8' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return json(res, 400, { error: 'the payload is not JSON' });
  }
  const object = z.record(z.string(), z.unknown()).safeParse(parsed);
  if (!object.success) return json(res, 400, { error: 'the payload is not a JSON object' });
  const payload = object.data;
  const ignored = ignoredBecause(name, payload);
  if (ignored) return json(res, 200, { ok: true, ignored });
  const delivery: Delivery = { id, name, payload };
  try {
    const queued = await queue.accept(delivery);
    return json(res, 202, {
      ok: true,
      ...(queued
        ? { queued: true }
        : { duplicate: 'this delivery is already waiting or being handled' }),
    });
  } catch (error) {
    probot.log.warn(
      { err: plainError(error), id, name },
      'the queue is unreachable; handling the delivery now',
    );
  }
  try {
    await receiveDelivery(probot, delivery);
    json(res, 200, { ok: true });
  } catch (error) {
    probot.log.error({ err: error, id, name }, 'webhook handler failed');
    json(res, 500, { error: 'the handler failed; see the bot log' });
  }
}

const handled = new Set<string>(Object.values(HANDLED_EVENTS).flat());

/** Why a delivery needs no work, or null when the app must see it. */
export function ignoredBecause(name: string, payload: Record<string, unknown>): string | null {
  const action = typeof payload.action === 'string' ? payload.action : '';
  // An event without actions (push) is handled by its name.
  if (!handled.has(action ? `${name}.${action}` : name))
    return `${name}${action ? `.${action}` : ''} is not an event kindler-bot handles`;
  if (name === 'issue_comment') {
    const body = (payload.comment as { body?: unknown } | undefined)?.body;
    const before = (payload.changes as { body?: { from?: unknown } } | undefined)?.body?.from;
    const mentions = (text: unknown) => typeof text === 'string' && text.includes('/env');
    if (!mentions(body) && !mentions(before)) return 'no /env command in the comment';
  }
  return null;
}
