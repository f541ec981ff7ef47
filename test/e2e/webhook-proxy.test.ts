// WEBHOOK_PROXY_URL: deliveries reach a process without a public address through a webhook proxy
// channel, as with smee.io. The stand-in channel speaks smee.io's protocol (server-sent events, each
// `data:` the delivery's headers plus its parsed `body`); the real server listens with smee-client
// and posts each delivery to its own endpoint, where the signature is checked as for any other.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { appPrivateKey, commentPayload } from '../support/github-fixtures.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const SECRET = 'proxy-webhook-secret';
const REPO = 'acme/envs';
const CHANNEL = '/chan-Qx7s9SecretChannel';

/** A smee.io-like channel: GET opens the event stream; `send` pushes one delivery into it. */
async function startChannel() {
  const streams: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== CHANNEL) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write('event: ready\ndata: {}\n\n');
    streams.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${CHANNEL}`,
    connected: () => streams.length > 0,
    /** What smee.io sends for a POST to the channel: the request's headers, `body` parsed, `query`. */
    send(headers: Record<string, string>, body: unknown) {
      const event = { ...headers, host: 'smee.io', body, query: {}, timestamp: Date.now() };
      for (const s of streams) s.write(`data: ${JSON.stringify(event)}\n\n`);
    },
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('webhooks through a proxy channel (WEBHOOK_PROXY_URL)', () => {
  let tmp: string;
  let db: TestDatabase;
  let github: GitHubServer;
  let channel: Awaited<ReturnType<typeof startChannel>>;
  let server: ServerProcess;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-proxy-'));
    const privateKey = appPrivateKey();
    github = await startGitHubServer({ appId: '77', privateKey });
    github.permissions[`${REPO}:writer`] = 'write';
    db = await createTestDatabase();
    channel = await startChannel();
    server = await startServerProcess({
      APP_ID: '77',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_PROXY_URL: channel.url,
      GHE_HOST: github.host,
      GHE_PROTOCOL: 'http',
      KINDLER_CONFIG_REPO: REPO,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      DATABASE_URL: db.url,
      KINDLER_DRIFT_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'debug',
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await channel?.close();
    await github?.close();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function delivery(issue: number, line: string, secret: string) {
    const p = commentPayload({
      repo: REPO,
      issue,
      commentId: 50_000 + issue,
      login: 'writer',
      body: line,
      installationId: github.installationId,
    });
    // GitHub signs the compact JSON it sends; the proxy forwards JSON.stringify of what it parsed.
    const raw = JSON.stringify(p);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`,
    };
    return { headers, body: JSON.parse(raw) as unknown };
  }

  it('a delivery through the channel is answered; one WEBHOOK_SECRET did not sign is not; the channel is never logged', async () => {
    const deadline = Date.now() + 20_000;
    while (!channel.connected()) {
      if (Date.now() > deadline) throw new Error(`never connected:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const forged = delivery(1, '/env help', 'not-the-secret');
    channel.send(forged.headers, forged.body);
    const signed = delivery(2, '/env help', SECRET);
    channel.send(signed.headers, signed.body);
    while (!github.comments.some((c) => c.issue === 2)) {
      if (Date.now() > deadline) throw new Error(`no answer:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(github.comments.filter((c) => c.issue === 2)).toEqual([
      expect.objectContaining({
        repo: REPO,
        body: expect.stringContaining('kindler-bot commands'),
      }),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(github.comments.filter((c) => c.issue === 1)).toEqual([]);
    expect(server.output()).toContain('and through the proxy in WEBHOOK_PROXY_URL');
    expect(server.output()).toContain('receiving webhooks through the proxy in WEBHOOK_PROXY_URL');
    expect(server.output()).not.toContain(CHANNEL.slice(1));
  });
});
