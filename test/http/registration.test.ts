// Registering the GitHub App from the running bot (the manifest flow): the setup page posts app.yml
// to GitHub with this server's webhook and callback, GitHub's one-time code is exchanged (the
// request checked against GitHub's description), and the credentials are written for the next
// start, readable by this user only and never shown. A callback this server did not start is
// refused and writes nothing.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import nock from 'nock';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { registrationHandler } from '../../src/github/registration.js';
import { registeredAppEnv } from '../../src/github/setup-files.js';
import { APP_KEY_FILE } from '../../src/github/setup-files.js';
import { APP_ENV_FILE } from '../../src/github/setup-files.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { appPrivateKey } from '../support/github-fixtures.js';
import { contract, expectNoContractViolations } from '../support/github-contract.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let tmp: string;
let server: http.Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-setup-'));
  server = await startHttpServer(
    [
      registrationHandler({
        dataDir: tmp,
        manifestPath: path.join(ROOT, 'app.yml'),
        octokit: new (Octokit.plugin(contract))({ retry: { enabled: false } } as never),
      }),
    ],
    '127.0.0.1',
    0,
  );
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await browser.close();
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('registering the GitHub App', () => {
  it('posts app.yml to GitHub with this server as its webhook, exchanges the code, and keeps the credentials for the next start', async () => {
    const page = await browser.newPage();
    let posted: { action: string; manifest: Record<string, any> } | null = null;
    // GitHub's "new app from a manifest" page: what the form sends is what GitHub would get.
    await page.route('https://github.com/**', async (route) => {
      const form = new URLSearchParams(route.request().postData() ?? '');
      posted = { action: route.request().url(), manifest: JSON.parse(form.get('manifest')!) };
      await route.fulfill({ status: 200, body: 'GitHub' });
    });
    await page.goto(`${base}/kindler/setup`);
    await page.getByRole('button', { name: /Register the GitHub App on github\.com/ }).click();
    await expect.poll(() => posted).not.toBeNull();
    const { action, manifest } = posted!;
    expect(action).toMatch(/^https:\/\/github\.com\/settings\/apps\/new\?state=[0-9a-f]{32}$/);
    expect(manifest).toMatchObject({
      name: 'kindler-bot',
      hook_attributes: { url: `${base}/api/github/webhooks` },
      redirect_url: `${base}/kindler/setup/callback`,
      // "Sign in with GitHub" comes back here; GitHub refuses a redirect it was not given.
      callback_urls: [`${base}/kindler/login/callback`],
      request_oauth_on_install: false,
      default_permissions: {
        issues: 'write',
        checks: 'write',
        contents: 'write',
        deployments: 'write',
      },
      default_events: ['issue_comment', 'pull_request', 'check_run', 'push'],
    });
    await page.close();

    const state = new URL(action).searchParams.get('state')!;
    const pem = appPrivateKey();
    nock('https://api.github.com').post('/app-manifests/abc123/conversions').reply(201, {
      id: 4321,
      slug: 'kindler-bot-acme',
      node_id: 'A_1',
      owner: null,
      name: 'kindler-bot-acme',
      description: null,
      external_url: 'https://example.test',
      html_url: 'https://github.com/apps/kindler-bot-acme',
      created_at: '2026-11-25T00:00:00Z',
      updated_at: '2026-11-25T00:00:00Z',
      permissions: {},
      events: [],
      client_id: 'Iv1.abc',
      client_secret: 'client-secret-0123456789',
      webhook_secret: 'hook-secret-0123456789',
      pem,
    });
    const res = await fetch(`${base}/kindler/setup/callback?code=abc123&state=${state}`);
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(body).toContain('https://github.com/apps/kindler-bot-acme/installations/new');
    for (const secret of ['client-secret-0123456789', 'hook-secret-0123456789', 'PRIVATE KEY'])
      expect(body).not.toContain(secret);
    expectNoContractViolations();

    const envFile = path.join(tmp, APP_ENV_FILE);
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(tmp, APP_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(tmp, APP_KEY_FILE), 'utf8')).toBe(pem);
    // What the next start reads: the app is configured from the file.
    expect(registeredAppEnv(tmp)).toBe(envFile);
    const env: NodeJS.ProcessEnv = {};
    const parsed = Object.fromEntries(
      fs
        .readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    Object.assign(env, parsed, { KINDLER_DATA_DIR: tmp });
    expect(parsed).toMatchObject({
      APP_ID: '4321',
      PRIVATE_KEY_PATH: path.join(tmp, APP_KEY_FILE),
      WEBHOOK_SECRET: 'hook-secret-0123456789',
      GITHUB_CLIENT_ID: 'Iv1.abc',
    });
    // ...and treats what it read as secrets.
    expect(loadConfig(env, tmp).secrets).toContain('client-secret-0123456789');

    // Registered once: the setup page and the callback never replace it from the web.
    const again = await fetch(`${base}/kindler/setup/callback?code=abc123&state=${state}`);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('never replaced from the web');
    expect((await fetch(`${base}/kindler/setup`)).status).toBe(409);
  });

  it('with WEBHOOK_PROXY_URL, the webhook GitHub is given is the proxy channel', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-setup-proxy-'));
    const channel = 'https://smee.io/Qx7s9Channel';
    const proxied = await startHttpServer(
      [
        registrationHandler({
          dataDir: dir,
          manifestPath: path.join(ROOT, 'app.yml'),
          webhookProxyUrl: channel,
        }),
      ],
      '127.0.0.1',
      0,
    );
    try {
      const port = (proxied.address() as { port: number }).port;
      const html = await (await fetch(`http://127.0.0.1:${port}/kindler/setup`)).text();
      const value = /name="manifest" value="([^"]*)"/.exec(html)?.[1] ?? '';
      const manifest = JSON.parse(value.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
      expect(manifest.hook_attributes).toEqual({ url: channel, active: true });
      expect(manifest.redirect_url).toBe(`http://127.0.0.1:${port}/kindler/setup/callback`);
    } finally {
      await new Promise((r) => proxied.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a callback this server did not start, and writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-setup-forged-'));
    const forged = await startHttpServer(
      [registrationHandler({ dataDir: dir, manifestPath: path.join(ROOT, 'app.yml') })],
      '127.0.0.1',
      0,
    );
    try {
      const port = (forged.address() as { port: number }).port;
      const res = await fetch(
        `http://127.0.0.1:${port}/kindler/setup/callback?code=x&state=${'0'.repeat(32)}`,
      );
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('was not made by this server');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await new Promise((r) => forged.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a request from another machine only with the setup code, and never with a Host that is not loopback', async () => {
    // A peer that is not this machine: its address is the socket's (no such peer can be made on
    // loopback, so the request is built with that address as the kernel would report it).
    const handler = registrationHandler({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-setup-remote-')),
      manifestPath: path.join(ROOT, 'app.yml'),
      setupCode: 'code-0123456789abcdef',
      publicUrl: 'https://kindler.example.test',
    });
    const ask = async (url: string) => {
      const socket = new net.Socket();
      Object.defineProperty(socket, 'remoteAddress', { value: '203.0.113.7' });
      const req = new http.IncomingMessage(socket);
      Object.assign(req, { url, method: 'GET', headers: { host: 'kindler.example.test' } });
      const res = { status: 0, body: '' } as { status: number; body: string } & Record<
        string,
        unknown
      >;
      Object.assign(res, {
        writeHead: (status: number) => ((res.status = status), res),
        end: (body: string) => ((res.body = body), res),
      });
      await handler(req, res as never);
      socket.destroy();
      return res;
    };
    const refused = await ask('/kindler/setup');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('setup_code');
    expect(refused.body).not.toContain('name="manifest"');
    expect((await ask('/kindler/setup?setup_code=wrong-code-000000000')).status).toBe(403);
    const allowed = await ask('/kindler/setup?setup_code=code-0123456789abcdef');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('https://kindler.example.test/api/github/webhooks');
  });

  it("the page's bootstrap button: the operator's page state, one run at a time, what each piece did", async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-setup-boot-'));
    const handler = registrationHandler({
      dataDir: dir,
      manifestPath: path.join(ROOT, 'app.yml'),
      bootstrap: async () => {
        runs++;
        await new Promise<void>((r) => (release = r));
        return {
          ok: true,
          results: [
            { title: 'devops cluster', outcome: 'made', detail: 'created k3d cluster devops' },
            { title: 'Argo CD', outcome: 'present', detail: 'already available in argocd' },
          ],
        };
      },
    });
    const served = await startHttpServer([handler], '127.0.0.1', 0);
    const at = `http://127.0.0.1:${(served.address() as { port: number }).port}`;
    const post = (body: string) =>
      fetch(`${at}/kindler/setup/bootstrap`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    try {
      const page = await (await fetch(`${at}/kindler/setup`)).text();
      expect(page).toContain('Build the devops side');
      const state = /name="state" value="([0-9a-f]{32})"/.exec(page)?.[1];
      expect(state).toBeDefined();
      // A form another site posts carries no state of this page's: refused, nothing run.
      expect((await post('')).status).toBe(403);
      expect((await post(`state=${'0'.repeat(32)}`)).status).toBe(403);
      expect(runs).toBe(0);
      const first = post(`state=${state}`);
      await expect.poll(() => runs).toBe(1);
      const second = await post(`state=${state}`);
      expect(second.status).toBe(409);
      release();
      const done = await first;
      expect(done.status).toBe(200);
      const text = await done.text();
      expect(text).toContain('✓ <strong>devops cluster</strong> — created k3d cluster devops');
      expect(text).toContain('= <strong>Argo CD</strong>');
      expect(runs).toBe(1);
    } finally {
      await new Promise((r) => served.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
