// A real HTTP server started as `npm start` starts it, with the app configured: a correctly signed
// delivery is accepted and handled, a forged one is rejected and changes nothing.
import { unmarked } from '../support/github-fixtures.js';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { startAppServer, type AppServer } from '../support/app-server.js';
import { expectNoContractViolations } from '../support/github-contract.js';

const SECRET = 'webhook-secret-for-tests';
let server: AppServer;
let rt: Runtime;
let base: string;

beforeAll(async () => {
  server = await startAppServer('server', SECRET);
  ({ rt, base } = server);
});
afterAll(() => server.stop());

const delivery = (id: string, signature: (body: string) => string, text = '/env list') => {
  const body = JSON.stringify({
    action: 'created',
    comment: { id: 1, body: text, html_url: 'https://x' },
    issue: { number: 1 },
    repository: { name: 'r', owner: { login: 'o' } },
    sender: { login: 'u', type: 'User' },
    installation: { id: 5 },
  });
  return fetch(`${base}/api/github/webhooks`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': id,
      'x-hub-signature-256': signature(body),
    },
  });
};
async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sign = (body: string) => server.sign(body);

describe('the server', () => {
  it('answers health', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({
      ok: true,
      checks: { database: 'ok', migrations: 'ok', queue: 'ok' },
    });
  });

  it('leads from / to the dashboard', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/kindler');
    const page = await fetch(`${base}/`);
    expect(page.url).toBe(`${base}/kindler`);
    expect(await page.text()).toContain('<title>');
  });

  it('accepts a signed delivery and answers the command through the GitHub API', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    let reply = '';
    const api = nock('https://api.github.com')
      .post('/app/installations/5/access_tokens')
      .reply(201, {
        token: 'ghs_installation0123456789',
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .post('/repos/o/r/issues/comments/1/reactions', { content: 'eyes' })
      .reply(201, {})
      .get(/\/repos\/o\/r\/contents\/\.github(%2F|\/)kindler\.yml/)
      .reply(404, { message: 'Not Found' })
      .get('/repos/o/r/collaborators/u/permission')
      .reply(200, { permission: 'read', user: { login: 'u' } })
      .post('/repos/o/r/issues/1/comments', (b) => {
        reply = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 2 });
    try {
      const res = await delivery('signed-1', sign);
      expect(res.status).toBe(202); // stored in the queue; the app answers on GitHub from there
      expect(await res.json()).toEqual({ ok: true, queued: true });
      await until('the answer on GitHub', () => api.pendingMocks().length === 0);
      expect(reply).toBe('No environments yet. Create one with `/env create <name>`.');
      expect(await rt.store.admitDelivery(['signed-1'], 'issue_comment')).toBe(false); // it was recorded
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });

  it('rejects a forged delivery and records nothing', async () => {
    const res = await delivery('forged-1', () => `sha256=${'0'.repeat(64)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).toMatch(/signature/i);
    expect(await rt.store.admitDelivery(['forged-1'], 'issue_comment')).toBe(true); // never seen before
  });

  it('answers a delivery with no work for the app at once, touching neither the queue nor GitHub', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    try {
      const res = await delivery('plain-1', sign, 'looks good to me');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, ignored: 'no /env command in the comment' });
      expect(await rt.store.admitDelivery(['plain-1'], 'issue_comment')).toBe(true);
    } finally {
      nock.enableNetConnect();
    }
  });

  it('serves the dashboard and metrics on the same server, with the webhook latency observed', async () => {
    const page = await (await fetch(`${base}/kindler`)).text();
    expect(page).toContain('<h2 id="environments">Environments</h2>');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /kindler_webhook_duration_seconds_count\{event="issue_comment"\} [1-9]/,
    );
  });

  it('answers malformed paths with 4xx: only the exact webhook path takes deliveries, %ZZ is refused', async () => {
    const near = await fetch(`${base}/api/github/webhooksXYZ`, {
      method: 'POST',
      headers: {
        'x-github-event': 'issue_comment',
        'x-github-delivery': 'near-1',
        'x-hub-signature-256': sign('{}'),
      },
      body: '{}',
    });
    expect(near.status).toBe(404);
    const page = await fetch(`${base}/kindler/environments/%ZZ`);
    expect(page.status).toBe(400);
    const api = await fetch(`${base}/kindler/api/environments/%ZZ`);
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({
      error: 'the name in the path is not valid percent-encoding',
    });
  });

  it('forged event names never become metric series (labels come from a closed set)', async () => {
    for (let i = 0; i < 50; i++)
      await fetch(`${base}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'x-github-event': `evil-${i}-${'A'.repeat(200)}`,
          'x-github-delivery': `forged-${i}`,
          'x-hub-signature-256': 'sha256=00',
        },
        body: '{}',
      });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toContain('evil-');
    expect(metrics).toMatch(
      /kindler_webhook_duration_seconds_count\{event="other"\} ([5-9]\d|\d{3,})/,
    );
  });
});

afterEach(() => expectNoContractViolations());
