// The webhook endpoint before the app: which deliveries carry no work, what a bad request is told,
// and where an accepted delivery goes — into the queue, or straight to the app when the queue's
// database is unreachable (so `/env list|status` still answer from the snapshot).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Probot } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { ignoredBecause, receiveWebhook } from '../../src/github/intake.js';
import type { Delivery, OperationQueue } from '../../src/queue/operation-queue.js';

const SECRET = 'intake-secret';
const sign = (body: string) =>
  `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('ignoredBecause', () => {
  it('lets through the events and actions the app handles', () => {
    expect(
      ignoredBecause('issue_comment', {
        action: 'created',
        comment: { body: 'please\n/env create dev' },
      }),
    ).toBeNull();
    expect(ignoredBecause('pull_request', { action: 'labeled' })).toBeNull();
    expect(ignoredBecause('check_run', { action: 'requested_action' })).toBeNull();
  });

  it('answers other events and actions with the reason', () => {
    expect(ignoredBecause('ping', {})).toBe('ping is not an event kindler-bot handles');
    expect(ignoredBecause('pull_request', { action: 'edited' })).toBe(
      'pull_request.edited is not an event kindler-bot handles',
    );
    expect(ignoredBecause('pull_request', { action: 'synchronize' })).toBeNull();
    expect(
      ignoredBecause('issue_comment', { action: 'deleted', comment: { body: '/env list' } }),
    ).toBe('issue_comment.deleted is not an event kindler-bot handles');
  });

  it('skips comments without /env, but not an edit that removed one (the edit must be compared)', () => {
    expect(
      ignoredBecause('issue_comment', { action: 'created', comment: { body: 'looks good' } }),
    ).toBe('no /env command in the comment');
    expect(
      ignoredBecause('issue_comment', {
        action: 'edited',
        comment: { body: 'never mind' },
        changes: { body: { from: '/env delete dev' } },
      }),
    ).toBeNull();
  });
});

describe('receiveWebhook', () => {
  let server: http.Server | null = null;
  afterEach(() => server?.close());

  async function endpoint(queue: Partial<OperationQueue>, maxBuffered?: number) {
    const received: Delivery[] = [];
    const probot = {
      webhooks: { verify: async (body: string, signature: string) => sign(body) === signature },
      receive: async (d: Delivery) => void received.push(d),
      log: { warn: () => undefined, error: () => undefined },
    } as unknown as Probot;
    server = http.createServer(
      (req, res) =>
        void receiveWebhook(
          req,
          res,
          probot,
          queue as OperationQueue,
          SECRET,
          ...(maxBuffered ? [{ maxBuffered }] : []),
        ),
    );
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
    const post = (id: string, payload: unknown, signature?: string, method = 'POST') => {
      const body = JSON.stringify(payload);
      return fetch(url, {
        method,
        ...(method === 'POST' ? { body } : {}),
        headers: {
          'x-github-event': 'issue_comment',
          'x-github-delivery': id,
          'x-hub-signature-256': signature ?? sign(body),
        },
      });
    };
    return { post, received, url };
  }
  const comment = { action: 'created', comment: { id: 1, body: '/env list' } };

  it('stores a verified delivery in the queue and answers 202; a redelivery while it waits is reported as such', async () => {
    const accepted: Delivery[] = [];
    const { post, received } = await endpoint({
      accept: async (d) => {
        const fresh = !accepted.some((a) => a.id === d.id);
        accepted.push(d);
        return fresh;
      },
    });
    const first = await post('d-1', comment);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ ok: true, queued: true });
    const again = await post('d-1', comment);
    expect(await again.json()).toEqual({
      ok: true,
      duplicate: 'this delivery is already waiting or being handled',
    });
    expect(accepted[0]).toEqual({ id: 'd-1', name: 'issue_comment', payload: comment });
    expect(received).toEqual([]); // the app gets it from the queue, not from the request
  });

  it('refuses a bad signature, a missing header and a GET, queueing nothing', async () => {
    const accepted: Delivery[] = [];
    const { post } = await endpoint({ accept: async (d) => (accepted.push(d), true) });
    const forged = await post('d-2', comment, `sha256=${'0'.repeat(64)}`);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({
      error: 'signature does not match the payload: check WEBHOOK_SECRET',
    });
    const unsigned = await post('d-3', comment, '');
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { error: string }).error).toMatch(/x-hub-signature-256/);
    const get = await post('d-4', comment, undefined, 'GET');
    expect(get.status).toBe(405);
    expect(accepted).toEqual([]);
  });

  it('hands the delivery to the app in the request when the queue is unreachable', async () => {
    const { post, received } = await endpoint({
      accept: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
          code: 'ECONNREFUSED',
        });
      },
    });
    const res = await post('d-5', comment);
    expect(res.status).toBe(200);
    expect(received).toEqual([{ id: 'd-5', name: 'issue_comment', payload: comment }]);
  });

  it('answers 4xx, never 5xx, for signed bodies that are empty, null, not an object, or not UTF-8', async () => {
    const accepted: Delivery[] = [];
    const { url } = await endpoint({ accept: async (d) => (accepted.push(d), true) });
    const raw = (id: string, body: Buffer) =>
      fetch(url, {
        method: 'POST',
        body,
        headers: {
          'x-github-event': 'issue_comment',
          'x-github-delivery': id,
          'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      });
    const cases: [string, Buffer, string][] = [
      ['empty', Buffer.alloc(0), 'the payload is not JSON'],
      ['null', Buffer.from('null'), 'the payload is not a JSON object'],
      ['array', Buffer.from('[1]'), 'the payload is not a JSON object'],
      [
        'latin1',
        Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]),
        'the payload is not UTF-8',
      ],
    ];
    for (const [id, body, error] of cases) {
      const res = await raw(id, body);
      expect(res.status, id).toBe(400);
      expect(await res.json(), id).toEqual({ error });
    }
    expect(accepted).toEqual([]);
  });

  it('bounds the bytes held for deliveries at once: past the bound, 503 instead of growing', async () => {
    const accepted: Delivery[] = [];
    const { url } = await endpoint({ accept: async (d) => (accepted.push(d), true) }, 1_500_000);
    const big = JSON.stringify({ action: 'created', comment: { body: 'x'.repeat(1_000_000) } });
    const headers = (id: string) => ({
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': id,
      'x-hub-signature-256': sign(big),
    });
    // The first delivery holds 1 MB and waits for its last byte…
    const target = new URL(url);
    const first = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: { ...headers('b-1'), 'content-length': Buffer.byteLength(big) },
    });
    const firstAnswer = new Promise<number>((resolve, reject) => {
      first.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      first.on('error', reject);
    });
    first.write(big.slice(0, -1));
    await new Promise((r) => setTimeout(r, 300));
    // …so a second one cannot be held beside it: one of the two is answered 503 (which one
    // depends on which bytes the server read first), never both held.
    const second = await fetch(url, { method: 'POST', body: big, headers: headers('b-2') });
    const secondBody = (await second.json()) as { error?: string };
    first.end(big.slice(-1));
    const statuses = [await firstAnswer, second.status].sort();
    expect(statuses).toEqual([200, 503]);
    if (second.status === 503)
      expect(secondBody).toEqual({ error: 'busy: too many large deliveries at once; try again' });
    // Once it is done, the bytes are released: the next one is read.
    const third = await fetch(url, { method: 'POST', body: big, headers: headers('b-3') });
    expect(third.status).toBe(200);
  });
});

describe('errors that reach the logger', () => {
  it('carry only a bounded message, never the object graph of a hostile payload', async () => {
    const { plainError } = await import('../../src/app.js');
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    const hostile = Object.assign(new AggregateError([new Error('x'.repeat(5000))], 'boom'), {
      event: { payload: deep },
      status: 502,
    });
    const plain = plainError(hostile);
    expect(Object.keys(plain)).toEqual(['status']);
    expect(plain.message).toBe('boom');
    expect(plainError(new Error('y'.repeat(5000))).message).toHaveLength(2000);
    expect(JSON.stringify(plain)).toBe('{"status":502}');
  });
});

describe('a handler that throws', () => {
  it('is reported by receiveDelivery as a plain error; Probot never sees it with the event', async () => {
    const { receiveDelivery } = await import('../../src/app.js');
    const { Probot: RealProbot } = await import('probot');
    const probot = new RealProbot({ githubToken: 'ghs_x', logLevel: 'fatal' });
    const seenByProbot: unknown[] = [];
    // The app's handlers fail on this payload (no deps, no repository): kept, not thrown into Probot.
    const { kindlerApp } = await import('../../src/app.js');
    await probot.load(kindlerApp({ rt: {} } as never));
    probot.onError((error) => void seenByProbot.push(error));
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    const delivery = {
      id: 'throws-1',
      name: 'issue_comment',
      payload: { action: 'created', comment: { body: '/env list' }, repository: deep },
    };
    const error = await receiveDelivery(probot, delivery).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(Object.keys(error!)).toEqual([]);
    expect(seenByProbot).toEqual([]);
    // Delivered again, it fails again (the failure is not left behind for another delivery).
    await expect(receiveDelivery(probot, { ...delivery, id: 'throws-2' })).rejects.toThrow();
  });
});
