// Generated hostile deliveries against the real server: valid and invalid signatures, truncated
// and deeply nested JSON, wrong types in every field the handlers read. Never a 5xx, never an
// operation recorded (no sender can be authorised: GitHub is unreachable here), memory bounded.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import nock from 'nock';
import { createProbot } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { serve, type Served } from '../../src/server/serve.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const SECRET = 'fuzz-secret';
let db: TestDatabase;
let rt: Runtime;
let served: Served;
let base: string;
let tmp: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-fuzz-'));
  rt = await openRuntime(loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp }, tmp));
  await rt.store.migrate();
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const env = {
    APP_ID: '1',
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'silent' as const,
  };
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  served = await serve(rt, env, 'test:fuzz', { host: '127.0.0.1', port: 0 }, createProbot({ env }));
  base = `http://127.0.0.1:${served.port}`;
});
afterAll(async () => {
  await served.stop();
  await rt.close();
  await db.drop();
  nock.enableNetConnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const deep = (n: number): unknown => (n === 0 ? '/env create x' : { a: deep(n - 1) });
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant(deep(1000)),
);
const payload = fc.record(
  {
    action: fc.oneof(
      fc.constantFrom('created', 'edited', 'labeled', 'reopened', 'closed', 'requested_action'),
      anyValue,
    ),
    comment: fc.oneof(
      fc.record({
        id: anyValue,
        body: fc.oneof(fc.constant('/env create fz k3d'), anyValue),
        html_url: anyValue,
      }),
      anyValue,
    ),
    issue: fc.oneof(fc.record({ number: anyValue }), anyValue),
    pull_request: fc.oneof(
      fc.record({ number: anyValue, labels: anyValue, head: anyValue }),
      anyValue,
    ),
    repository: fc.oneof(
      fc.record({ name: anyValue, owner: fc.record({ login: anyValue }) }),
      anyValue,
    ),
    sender: fc.oneof(fc.record({ login: anyValue, type: anyValue }), anyValue),
    installation: fc.oneof(fc.record({ id: anyValue }), anyValue),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  payload.map((p) => JSON.stringify(p)),
  payload.map((p) => JSON.stringify(p).slice(0, 7)), // truncated
  fc.constant(JSON.stringify(deep(1000))),
  fc.constantFrom('null', '', '[]', '"x"', '1', 'true'),
  fc.string(),
);

describe('hostile deliveries', () => {
  it('never answer 5xx, never record an operation, and keep memory bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('issue_comment', 'pull_request', 'check_run', 'push', 'evil'),
        fc.constantFrom('valid', 'forged', 'missing'),
        async (text, event, signature) => {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': `fuzz-${++n}`,
          };
          if (signature !== 'missing')
            headers['x-hub-signature-256'] =
              signature === 'valid'
                ? `sha256=${crypto.createHmac('sha256', SECRET).update(text).digest('hex')}`
                : `sha256=${'0'.repeat(64)}`;
          const res = await fetch(`${base}/api/github/webhooks`, {
            method: 'POST',
            headers,
            body: text,
          });
          await res.arrayBuffer();
          expect(res.status, `${event} ${signature}: ${text.slice(0, 80)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    // Let the background handlers take what was queued (they fail at GitHub, which is unreachable).
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await rt.store.listOperations({})).toEqual([]);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
  });
});
