// Generated hostile deliveries against the real server: valid and invalid signatures, truncated
// and deeply nested JSON, wrong types in every field the handlers read. Never a 5xx, never an
// operation recorded (no sender can be authorised: GitHub is unreachable here), memory bounded.
import fc from 'fast-check';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { startAppServer, type AppServer } from '../support/app-server.js';

let server: AppServer;
let rt: Runtime;
let base: string;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  server = await startAppServer('fuzz', 'fuzz-secret');
  ({ rt, base } = server);
});
afterAll(async () => {
  await server.stop();
  nock.enableNetConnect();
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
              signature === 'valid' ? server.sign(text) : `sha256=${'0'.repeat(64)}`;
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
