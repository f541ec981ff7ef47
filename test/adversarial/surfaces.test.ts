// The console, sign-in, live events, the webhook budget and the setup page, attacked as the
// security review did, against the bot as `npm start` runs it (a real server process, GitHub a
// stand-in on loopback serving the OAuth web flow, the cluster CLIs the executable fakes). Each
// test is one hole of the review and failed on the code before it was closed.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appPrivateKey, webhookExample } from '../support/github-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'surface-webhook-secret';
const TOKEN = 'surface-dash-token-0123456789';
const CONFIG_REPO = 'acme/envs';
const PUBLIC = 'https://kindler.example.test';

let fakes: Fakes;
let tmp: string;
let db: TestDatabase;
let client: pg.Client;
let github: GitHubServer;
let server: ServerProcess;

/** A request from a chosen loopback address (127.0.0.0/8), answered in full. */
function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    from?: string;
  } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        localAddress: options.from ?? '127.0.0.1',
        headers: options.headers ?? {},
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Signs `login` in through GitHub's OAuth web flow; the session cookie. */
async function signIn(login: string): Promise<string> {
  github.oauth.user = login;
  const start = await fetch(`${server.base}/kindler/login`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const state = start.headers.getSetCookie()[0]!.split(';')[0]!;
  const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  // GitHub sends the browser to the callback the app registered: KINDLER_PUBLIC_URL's.
  const back = new URL(authorize.headers.get('location')!);
  expect(back.origin).toBe(PUBLIC);
  const done = await fetch(`${server.base}${back.pathname}${back.search}`, {
    headers: { cookie: state },
    redirect: 'manual',
  });
  expect(done.status).toBe(303);
  const session = done.headers.getSetCookie().find((c) => c.startsWith('kindler_session='));
  return session!.split(';')[0]!;
}

/** A user token GitHub issued to `login` (as a personal token would be). */
function userToken(login: string): string {
  const token = `ghu_${crypto.randomBytes(12).toString('hex')}`;
  github.userTokens.set(token, login);
  return token;
}

const sign = (body: string) =>
  `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
let deliveries = 0;
async function comment(login: string, body: string, issue: number) {
  const p = webhookExample('issue_comment', 'created');
  p.comment.id = 90_000 + ++deliveries;
  p.comment.body = body;
  p.comment.user = { ...p.comment.user, login };
  p.issue.number = issue;
  p.repository = {
    ...p.repository,
    name: 'envs',
    full_name: CONFIG_REPO,
    owner: { ...p.repository.owner, login: 'acme' },
  };
  p.sender = { ...p.sender, login, type: 'User' };
  p.installation = { id: github.installationId };
  const raw = JSON.stringify(p);
  const res = await fetch(`${server.base}/api/github/webhooks`, {
    method: 'POST',
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': `surf-${deliveries}`,
      'x-hub-signature-256': sign(raw),
    },
  });
  expect(res.status).toBeLessThan(300);
}

const waitFor = <T>(what: string, probe: () => Promise<T | null | undefined | false> | T) =>
  waitUntil(what, probe, { context: () => server.output() });
const operations = async (env: string) =>
  (
    await client.query(
      'select operation, status, actor, actor_via from operations where cluster_name = $1 order by id',
      [env],
    )
  ).rows as { operation: string; status: string; actor: string; actor_via: string | null }[];

beforeAll(async () => {
  fakes = setupFakes();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-surfaces-'));
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const privateKey = appPrivateKey();
  github = await startGitHubServer({ appId: '4343', privateKey });
  github.policies[CONFIG_REPO] = 'repositories: [acme/envs]\n';
  Object.assign(github.permissions, {
    'acme/envs:reader': 'read',
    'acme/envs:writer': 'write',
    // GitHub users whose logins look like the local operator's.
    'acme/envs:operator': 'write',
    'acme/envs:dashboard-token': 'write',
  });
  server = await startServerProcess({
    ...fakes.env,
    WEBHOOK_SECRET: SECRET,
    APP_ID: '4343',
    PRIVATE_KEY: privateKey,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
    GITHUB_CLIENT_ID: github.oauth.clientId,
    GITHUB_CLIENT_SECRET: github.oauth.clientSecret,
    KINDLER_PUBLIC_URL: PUBLIC,
    KINDLER_CONFIG_REPO: CONFIG_REPO,
    KINDLER_DASHBOARD_TOKEN: TOKEN,
    DATABASE_URL: db.url,
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    GIT_REPO_URL: path.join(tmp, 'gitops.git'),
    BASE_DOMAIN: 'surf.test',
    KINDLER_RETRY_DELAYS_MS: 'none',
    KINDLER_DRIFT_INTERVAL_MINUTES: '0',
    KINDLER_CHECK_FRESH_SECONDS: '30',
    KINDLER_LIVE_LIFETIME_SECONDS: '3',
    LOG_LEVEL: 'warn',
  });
}, 120_000);
afterEach(() => {
  expect(github.violations.splice(0), 'requests GitHub would refuse').toEqual([]);
});
afterAll(async () => {
  await server?.stop();
  await github?.close();
  await client?.end();
  await db?.drop();
  fakes?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the console and its API, as a stranger would try them', () => {
  // First, while no webhook has told the bot which installation covers the config repository.
  it('#12: a signed-in user whose permission GitHub cannot tell now gets a page that says so, not a 500', async () => {
    github.uninstalled.add(CONFIG_REPO);
    try {
      const session = await signIn('reader');
      const page = await request(`${server.base}/kindler`, { headers: { cookie: session } });
      expect(page.status).toBe(503);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('Your permission could not be read just now');
      expect(page.body).not.toMatch(/<td>|internal error/);
    } finally {
      github.uninstalled.delete(CONFIG_REPO);
    }
    const session = await signIn('reader');
    expect((await request(`${server.base}/kindler`, { headers: { cookie: session } })).status).toBe(
      200,
    );
  });

  it('#2: signing in with GitHub gives what the config repository gives: nothing to a stranger, on every read', async () => {
    const stranger = await signIn('mallory');
    for (const where of [
      '/kindler',
      '/kindler/api/environments',
      '/metrics',
      '/kindler/api/events',
    ]) {
      const answer = await request(`${server.base}${where}`, { headers: { cookie: stranger } });
      expect(answer.status, where).toBe(403);
      expect(answer.body, where).toContain('read permission');
      expect(answer.body, where).not.toContain('kindler_environments');
    }
    // Her user token gets the same answer: one authority, whatever the credential.
    const viaToken = await request(`${server.base}/kindler/api/environments`, {
      headers: bearer(userToken('mallory')),
    });
    expect(viaToken.status).toBe(403);
    // A reader reads.
    const reader = await signIn('reader');
    const list = await request(`${server.base}/kindler/api/environments`, {
      headers: { cookie: reader },
    });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toMatchObject({ environments: [] });
  });

  it('#9: the local operator is recorded as itself, never as a GitHub user of the same name', async () => {
    const create = (name: string, headers: Record<string, string>) =>
      request(`${server.base}/kindler/api/environments`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ name, provider: 'k3d' }),
      });
    expect((await create('viatoken', bearer(TOKEN))).status).toBe(202);
    expect((await create('viaghop', bearer(userToken('operator')))).status).toBe(202);
    expect((await create('viaghdt', bearer(userToken('dashboard-token')))).status).toBe(202);
    expect((await operations('viatoken'))[0]).toMatchObject({
      actor: 'operator',
      actor_via: 'token',
    });
    expect((await operations('viaghop'))[0]).toMatchObject({
      actor: 'operator',
      actor_via: 'github',
    });
    expect((await operations('viaghdt'))[0]).toMatchObject({
      actor: 'dashboard-token',
      actor_via: 'github',
    });
  });

  it('#8: ?token= becomes a session (hash kept, Secure under https); the token never travels again; guesses are throttled per address', async () => {
    const visit = await request(`${server.base}/kindler?token=${TOKEN}`);
    expect(visit.status).toBe(303);
    const cookies = visit.headers['set-cookie'] ?? [];
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^kindler_session=[^;]+; .*HttpOnly; SameSite=Lax; Secure$/);
    expect(JSON.stringify(visit.headers)).not.toContain(TOKEN);
    expect(JSON.stringify(visit.headers), 'the token in any encoding').not.toContain(
      Buffer.from(TOKEN).toString('base64'),
    );
    const { rows } = await client.query('select id_hash from console_sessions');
    expect(JSON.stringify(rows)).not.toContain(cookies[0]!.split(';')[0]!.split('=')[1]);
    const session = cookies[0]!.split(';')[0]!;
    expect(
      (await request(`${server.base}/kindler/api/environments`, { headers: { cookie: session } }))
        .status,
    ).toBe(200);
    // The old cookie that held the token itself is no credential any more.
    expect(
      (
        await request(`${server.base}/kindler/api/environments`, {
          headers: { cookie: `kindler_token=${TOKEN}` },
        })
      ).status,
    ).toBe(401);

    // 127.0.0.9 guesses: ten wrong answers, then it is told to wait — even with the right token.
    const from = '127.0.0.9';
    for (let i = 0; i < 10; i++) {
      const guess = await request(`${server.base}/kindler?token=guess-${i}`, { from });
      expect(guess.status).toBe(401);
    }
    const blocked = await request(`${server.base}/kindler?token=${TOKEN}`, { from });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const bearerToo = await request(`${server.base}/kindler/api/environments`, {
      from,
      headers: bearer(TOKEN),
    });
    expect(bearerToo.status).toBe(429);
    // Another address is not held up by it.
    expect(
      (await request(`${server.base}/kindler/api/environments`, { headers: bearer(TOKEN) })).status,
    ).toBe(200);
  });

  it('#10: pr-* names belong to pull requests, from a comment and from the API', async () => {
    await comment('writer', '/env create pr-99 k3d', 501);
    const reply = await waitFor('the refusal', () =>
      github.comments.find((c) => c.issue === 501 && /pull requests/.test(c.body)),
    );
    expect(reply.body).toContain('"pr-99" starts with pr-, which belongs to pull requests');
    const api = await request(`${server.base}/kindler/api/environments`, {
      method: 'POST',
      headers: { ...bearer(TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pr-99', provider: 'k3d' }),
    });
    expect(api.status).toBe(400);
    expect(JSON.parse(api.body).error).toContain('belongs to pull requests');
    expect(await operations('pr-99')).toEqual([]);
  });

  it('#7: thirty console checks from a reader share one run, and an operator is answered meanwhile', async () => {
    // The creates of the tests above are done: every `k3d cluster list` from here is a check's.
    await waitFor('no operation running', async () => {
      const { rows } = await client.query(
        "select count(*)::int as n from operations where status in ('queued', 'running')",
      );
      return rows[0].n === 0;
    });
    fakes.fail('k3d cluster list', { delayMs: 1_500 });
    fakes.clearArgv();
    const reader = userToken('reader');
    const checks = Array.from({ length: 30 }, () =>
      request(`${server.base}/kindler/api/consistency/check`, {
        method: 'POST',
        headers: bearer(reader),
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const list = await request(`${server.base}/kindler/api/environments`, {
      headers: bearer(TOKEN),
    });
    const listMs = Date.now() - started;
    const answers = await Promise.all(checks);
    fakes.clearFailures();
    expect(list.status).toBe(200);
    expect(listMs, 'the operator waited').toBeLessThan(1_000);
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    const reports = new Set(answers.map((a) => JSON.parse(a.body).report.checkedAt));
    expect(reports.size).toBe(1);
    const runs = fakes.argv().filter((a) => a.join(' ').startsWith('k3d cluster list'));
    expect(runs.length).toBe(1);
  });
});

describe('live events', () => {
  /** Opens a stream; resolves with the status once the headers arrive. */
  function stream(headers: Record<string, string>) {
    const target = new URL(`${server.base}/kindler/api/events`);
    let ended = false;
    const req = http.get({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      headers,
    });
    const status = new Promise<number>((resolve) => {
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        res.on('data', () => undefined);
        res.on('end', () => (ended = true));
      });
      req.on('error', () => resolve(0));
    });
    return { status, req, ended: () => ended };
  }

  it('#6: one reader holds a bounded share of the streams, and a stream ends after its lifetime', async () => {
    const mine = Array.from({ length: 8 }, () => stream(bearer(TOKEN)));
    expect(await Promise.all(mine.map((s) => s.status))).toEqual(Array(8).fill(200));
    const ninth = stream(bearer(TOKEN));
    expect(await ninth.status).toBe(429);
    // Someone else still gets theirs.
    const reader = stream({ cookie: await signIn('reader') });
    expect(await reader.status).toBe(200);
    // KINDLER_LIVE_LIFETIME_SECONDS=3: the server ends each stream; the browser reconnects.
    await waitFor('the streams to end by themselves', () => mine.every((s) => s.ended()));
    for (const s of [...mine, ninth, reader]) s.req.destroy();
    // Their places are free again.
    const again = stream(bearer(TOKEN));
    expect(await again.status).toBe(200);
    again.req.destroy();
  });
});

describe('the webhook budget', () => {
  it('#3: a signed delivery is answered while three slow bodies with forged signatures are in flight', async () => {
    const target = new URL(`${server.base}/api/github/webhooks`);
    const slow = [0, 1, 2].map((i) => {
      const req = http.request({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress: '127.0.0.7',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issue_comment',
          'x-github-delivery': `slow-${i}`,
          'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
          'content-length': String(25 * 1024 * 1024 - 1),
        },
      });
      const answer = new Promise<number>((resolve) => {
        req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.on('error', () => resolve(0));
      });
      req.write(Buffer.alloc(8 * 1024 * 1024, 'a'));
      return { req, answer };
    });
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await comment('reader', '/env list', 502);
    expect(Date.now() - started, 'the signed delivery waited').toBeLessThan(2_000);
    await waitFor('the answer to the signed delivery', () =>
      github.comments.find((c) => c.issue === 502),
    );
    for (const s of slow) s.req.destroy();
  });
});

describe('#1: the setup page of a bot with no app yet', () => {
  let bare: ServerProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = path.join(tmp, 'bare-data');
    bare = await startServerProcess({
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: dataDir,
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      KINDLER_DRIFT_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'warn',
    });
  }, 60_000);
  afterAll(() => bare?.stop());

  it('prints a one-time setup code and keeps it readable by this user only', () => {
    const file = path.join(dataDir, 'setup-code');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const code = fs.readFileSync(file, 'utf8').trim();
    expect(code).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(bare.output()).toContain(`?setup_code=${code}`);
  });

  it("never builds the manifest from a stranger's Host header", async () => {
    const forged = await request(`${bare.base}/kindler/setup`, {
      headers: { host: 'evil.example' },
    });
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('KINDLER_PUBLIC_URL');
    expect(forged.body).not.toContain('name="manifest"');
    expect(forged.body).not.toContain('evil.example/api/github/webhooks');
    const local = await request(`${bare.base}/kindler/setup`);
    expect(local.status).toBe(200);
    const value = /name="manifest" value="([^"]*)"/.exec(local.body)?.[1] ?? '';
    const manifest = JSON.parse(value.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
    expect(manifest.hook_attributes.url).toBe(`${bare.base}/api/github/webhooks`);
    expect(manifest.callback_urls).toEqual([`${bare.base}/kindler/login/callback`]);
    expect(local.headers['referrer-policy']).toBe('no-referrer');
  });

  it('an app already registered is never replaced from the web', async () => {
    fs.writeFileSync(path.join(dataDir, 'github-app.env'), 'APP_ID=1\n', { mode: 0o600 });
    try {
      const page = await request(`${bare.base}/kindler/setup`);
      expect(page.status).toBe(409);
      const callback = await request(`${bare.base}/kindler/setup/callback?code=x&state=y`);
      expect(callback.status).toBe(409);
      expect(fs.readFileSync(path.join(dataDir, 'github-app.env'), 'utf8')).toBe('APP_ID=1\n');
    } finally {
      fs.rmSync(path.join(dataDir, 'github-app.env'));
    }
  });
});
