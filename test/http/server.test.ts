// A real HTTP server started as `npm start` starts it, with the app configured: a correctly signed
// delivery is accepted and handled, a forged one is rejected and changes nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startGitHub } from '../../src/github/start.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { healthHandler, startHttpServer } from '../../src/server/http-server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const SECRET = 'webhook-secret-for-tests';
let db: TestDatabase;
let tmp: string;
let rt: Runtime;
let server: http.Server;
let stopWorker: () => Promise<void>;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-server-'));
  rt = await openRuntime(loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp }, tmp));
  await rt.store.migrate();
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const github = await startGitHub(rt, { APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'fatal' }, 'test:server');
  stopWorker = () => github.worker.stop();
  server = await startHttpServer([healthHandler(rt), github.handler!], '127.0.0.1', 0);
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.close();
  await stopWorker();
  await rt.close();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const delivery = (id: string, signature: (body: string) => string) => {
  const body = JSON.stringify({ action: 'created', comment: { id: 1, body: 'just chatting, no command', html_url: 'https://x' }, issue: { number: 1 },
    repository: { name: 'r', owner: { login: 'o' } }, sender: { login: 'u', type: 'User' } });
  return fetch(`${base}/api/github/webhooks`, { method: 'POST', body, headers: {
    'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': id, 'x-hub-signature-256': signature(body) } });
};
const sign = (body: string) => `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('the server', () => {
  it('answers health', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ok: true, checks: { database: 'ok' } });
  });

  it('accepts a signed delivery', async () => {
    const res = await delivery('signed-1', sign);
    expect(res.status).toBe(200);
  });

  it('rejects a forged delivery', async () => {
    const res = await delivery('forged-1', () => `sha256=${'0'.repeat(64)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).toMatch(/signature/i);
  });
});
