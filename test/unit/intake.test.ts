// The webhook endpoint before the app: which deliveries carry no work, what a bad request is told,
// and where an accepted delivery goes — into the queue, or straight to the app when the queue's
// database is unreachable (so `/env list|status` still answer from the snapshot).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Probot } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { ignoredBecause, receiveWebhook } from '../../src/github/intake.js';
import { BodyBudget, WEBHOOK_LIMITS, type WebhookLimits } from '../../src/github/webhook-budget.js';
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

  async function endpoint(queue: Partial<OperationQueue>, limits?: Partial<WebhookLimits>) {
    const received: Delivery[] = [];
    const probot = {
      webhooks: { verify: async (body: string, signature: string) => sign(body) === signature },
      receive: async (d: Delivery) => void received.push(d),
      log: { warn: () => undefined, error: () => undefined },
    } as unknown as Probot;
    // One budget for the server, as the process has one.
    const budget = limits ? new BodyBudget({ ...WEBHOOK_LIMITS, ...limits }) : null;
    server = http.createServer(
      (req, res) =>
        void receiveWebhook(
          req,
          res,
          probot,
          queue as OperationQueue,
          SECRET,
          ...(budget ? [budget] : []),
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

  /** A POST whose headers go out now and whose body is written by the caller. */
  function open(url: string, headers: Record<string, string | number>, address = '127.0.0.1') {
    const target = new URL(url);
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      localAddress: address,
      headers,
    });
    const answer = new Promise<{ status: number; body: string }>((resolve) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', () => resolve({ status: 0, body: 'reset' }));
    });
    req.flushHeaders();
    return { req, answer };
  }
  const headersFor = (id: string, body: string, signature = sign(body)) => ({
    'content-type': 'application/json',
    'x-github-event': 'issue_comment',
    'x-github-delivery': id,
    'x-hub-signature-256': signature,
    'content-length': String(Buffer.byteLength(body)),
  });

  it('reserves what a body declares before reading it: past the bound, 503 at once', async () => {
    const accepted: Delivery[] = [];
    const { url } = await endpoint(
      { accept: async (d) => (accepted.push(d), true) },
      { lanes: { small: 1_500_000, large: 1_500_000 } },
    );
    const big = JSON.stringify({
      action: 'created',
      comment: { body: `/env list\n${'x'.repeat(1_000_000)}` },
    });
    // The first delivery holds its 1 MB and waits for its last byte…
    const first = open(url, headersFor('b-1', big));
    first.req.write(big.slice(0, -1));
    await new Promise((r) => setTimeout(r, 200));
    // …so the second is refused before a byte of it is read.
    const second = await fetch(url, { method: 'POST', body: big, headers: headersFor('b-2', big) });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(await second.json()).toEqual({
      error: 'busy: too many large deliveries at once; try again',
    });
    first.req.end(big.slice(-1));
    expect((await first.answer).status).toBe(202);
    // Once it is done, the bytes are released: the next one is read.
    const third = await fetch(url, { method: 'POST', body: big, headers: headersFor('b-3', big) });
    expect(third.status).toBe(202);
    expect(accepted.map((d) => d.id)).toEqual(['b-1', 'b-3']);
  });

  it('refuses a signature of the wrong shape and an undeclared length before reading the body', async () => {
    const { url } = await endpoint({ accept: async () => true });
    const body = JSON.stringify(comment);
    // Headers only: the body never comes, yet the answer does.
    for (const signature of ['sha256=00', 'sha1=' + 'a'.repeat(40), `sha256=${'A'.repeat(64)}`]) {
      const forged = open(url, headersFor('s-1', body, signature));
      const answer = await forged.answer;
      expect(answer.status, signature).toBe(400);
      expect(answer.body).toContain('sha256=<64 hex digits>');
      forged.req.destroy();
    }
    const { 'content-length': _, ...undeclared } = headersFor('s-2', body);
    const chunked = open(url, { ...undeclared, 'transfer-encoding': 'chunked' });
    chunked.req.write(body);
    chunked.req.end();
    expect((await chunked.answer).status).toBe(411);
  });

  it('a signed delivery is answered while three slow bodies with forged signatures hold their sockets; they are cut when they stall', async () => {
    const accepted: Delivery[] = [];
    const { url, post } = await endpoint(
      { accept: async (d) => (accepted.push(d), true) },
      { idleMs: 1_500 },
    );
    const forged = `sha256=${'0'.repeat(64)}`;
    const declared = 25 * 1024 * 1024 - 1;
    // Three strangers on one address declare 25 MB each and send a little, then nothing.
    const slow = [0, 1, 2].map((i) => {
      const s = open(
        url,
        { ...headersFor(`slow-${i}`, '', forged), 'content-length': String(declared) },
        '127.0.0.2',
      );
      s.req.write(Buffer.alloc(64 * 1024, 'a'));
      return s;
    });
    await new Promise((r) => setTimeout(r, 200));
    // The address may hold one 25 MB body: the other two are refused at once.
    const early = await Promise.race([
      Promise.all(slow.slice(1).map((s) => s.answer)),
      new Promise((r) => setTimeout(() => r('pending'), 1_000)),
    ]);
    expect(early).toEqual([
      { status: 503, body: expect.stringContaining('this address has too many deliveries') },
      { status: 503, body: expect.stringContaining('this address has too many deliveries') },
    ]);
    // GitHub's delivery, from another address, is answered at once: its lane is its own.
    const started = Date.now();
    const signed = await post('real-1', comment);
    expect(signed.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1_000);
    // The stalled body is cut (408), and its reservation released.
    expect(await slow[0]!.answer).toMatchObject({ status: 408 });
    expect(accepted.map((d) => d.id)).toEqual(['real-1']);
  });

  it('a body trickling slower than the minimum rate is cut by its deadline', async () => {
    const { url } = await endpoint(
      { accept: async () => true },
      { idleMs: 600, minRate: 1024 * 1024 },
    );
    const body = JSON.stringify({ action: 'created', comment: { body: 'y'.repeat(200_000) } });
    const trickle = open(url, headersFor('t-1', body));
    let sent = 0;
    // 1 KB every 200 ms: never idle for 600 ms, but 5 KB/s, far under 1 MB/s.
    const timer = setInterval(() => {
      if (sent < body.length) trickle.req.write(body.slice(sent, (sent += 1024)));
    }, 200);
    const started = Date.now();
    const answer = await trickle.answer;
    clearInterval(timer);
    expect(answer.status).toBe(408);
    // idleMs + 200 KB at 1 MB/s ≈ 0.8 s, not the 40 s the trickle would take.
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('errors that reach the logger', () => {
  it('carry only a bounded message, never the object graph of a hostile payload', async () => {
    const { plainError } = await import('../../src/github/app.js');
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
    const { receiveDelivery } = await import('../../src/github/app.js');
    const { Probot: RealProbot } = await import('probot');
    const probot = new RealProbot({ githubToken: 'ghs_x', logLevel: 'fatal' });
    const seenByProbot: unknown[] = [];
    // The app's handlers fail on this payload (no deps, no repository): kept, not thrown into Probot.
    const { kindlerApp } = await import('../../src/github/app.js');
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
