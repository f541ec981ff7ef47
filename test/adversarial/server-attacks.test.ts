// Every attack class of the security review, against the bot as `npm start` runs it: a real server
// process (src/main.ts) with the GitHub App configured, GitHub a stand-in on loopback that answers
// as GitHub does (app JWT and installation tokens checked, every request checked against the
// OpenAPI description), the cluster CLIs the executable fakes. Each test sends what an attacker
// would and reads what the bot did: its operations (PostgreSQL), what it wrote to GitHub, what its
// children were given, its memory and its log.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import pg from 'pg';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appPrivateKey, webhookExample } from '../support/github-fixtures.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'adv-webhook-secret-0123';
const GIT_USER = 'bot';
const GIT_PASSWORD = 'adv-git-pass-0123';
const SECRETS = {
  WEBHOOK_SECRET: SECRET,
  PORTAINER_API_KEY: 'ptr_adv0123456789abcdef',
  KINDLER_DASHBOARD_TOKEN: 'adv-dash-token-0123456789',
  GIT_USERNAME: GIT_USER,
  GIT_PASSWORD,
};
const CONFIG_REPO = 'acme/envs';
const POLICY = `
repositories: [acme/envs, acme/web]
permissions:
  rules:
    - name: prod-needs-admin
      environments: ["prod-*"]
      verbs: [create, delete]
      require: admin
    - name: platform-deletes
      verbs: [delete]
      users: [alice, bob]
`;

let fakes: Fakes;
let tmp: string;
let db: TestDatabase;
let client: pg.Client;
let github: GitHubServer;
let server: ServerProcess;
let privateKey: string;
let serverEnv: Record<string, string>;

const sign = (body: string | Buffer) =>
  `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
let deliveries = 0;
async function deliver(
  event: string,
  body: string | Buffer,
  options: { signature?: string | null; id?: string; path?: string } = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': options.id ?? `adv-${++deliveries}`,
  };
  const signature = options.signature === undefined ? sign(body) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${server.base}${options.path ?? '/api/github/webhooks'}`, {
    method: 'POST',
    headers,
    body,
  });
  return { status: res.status, text: await res.text() };
}

let commentIds = 70_000;
let issues = 100;
/** An issue comment as GitHub sends it, on a new issue of `repo` unless one is given. */
function commentPayload(
  repo: string,
  login: string,
  body: string,
  options: { issue?: number; commentId?: number } = {},
) {
  const p = webhookExample('issue_comment', 'created');
  const [owner, name] = repo.split('/');
  const id = options.commentId ?? ++commentIds;
  p.comment.id = id;
  p.comment.body = body;
  p.comment.html_url = `https://github.com/${repo}/issues/1#issuecomment-${id}`;
  p.comment.user = { ...p.comment.user, login };
  p.issue.number = options.issue ?? ++issues;
  p.repository = {
    ...p.repository,
    name,
    full_name: repo,
    owner: { ...p.repository.owner, login: owner },
  };
  p.sender = { ...p.sender, login, type: 'User' };
  p.installation = { id: github.installationId };
  return p;
}
const comment = async (repo: string, login: string, body: string, issue?: number) => {
  const payload = commentPayload(repo, login, body, issue === undefined ? {} : { issue });
  const answer = await deliver('issue_comment', JSON.stringify(payload));
  if (answer.status >= 300) await new Promise((r) => setTimeout(r, 500)); // let the log say why
  expect(answer.status, `${answer.text}\n${server.output().slice(-4_000)}`).toBeLessThan(300);
  return payload;
};

const waitFor = <T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T,
  timeoutMs = 30_000,
) => waitUntil(what, probe, { timeoutMs, context: () => server.output() });
const operations = async (env: string) =>
  (
    await client.query(
      'select id, operation, status, actor from operations where cluster_name = $1 order by id',
      [env],
    )
  ).rows as { id: number; operation: string; status: string; actor: string }[];
const repliesOn = (repo: string, issue: number) =>
  github.comments.filter((c) => c.repo === repo && c.issue === issue);
/** Waits until the bot has answered on the issue (and a moment more, to catch a second answer). */
async function settledReplies(repo: string, issue: number, count = 1) {
  await waitFor(`a reply on ${repo}#${issue}`, () => repliesOn(repo, issue).length >= count);
  await new Promise((r) => setTimeout(r, 700));
  return repliesOn(repo, issue);
}
const finished = (env: string, kind: string, timeoutMs?: number) =>
  waitFor(
    `${kind} ${env} to finish`,
    async () => {
      const op = (await operations(env)).filter((o) => o.operation === kind).at(-1);
      return op && !['queued', 'running'].includes(op.status) ? op : null;
    },
    timeoutMs,
  );

beforeAll(async () => {
  fakes = setupFakes();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-adversarial-'));
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
  fs.copyFileSync(
    path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
    path.join(tmp, 'haproxy.cfg'),
  );
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  client.on('error', () => undefined); // cut on purpose when the database goes away
  await client.connect();
  privateKey = appPrivateKey();
  github = await startGitHubServer({ appId: '4242', privateKey });
  github.policies[CONFIG_REPO] = POLICY;
  Object.assign(github.permissions, {
    'acme/envs:writer': 'write',
    'acme/envs:alice': 'write',
    'acme/envs:bob': 'write',
    'acme/envs:boss': 'admin',
    'acme/envs:reader': 'read',
    // Admin in a repository of their own: it gives nothing here.
    'acme/web:writer': 'admin',
    'acme/stranger:writer': 'admin',
  });
  // A password in the database URL (trust auth ignores it): a secret like any other.
  const dbUrl = new URL(db.url);
  dbUrl.username = 'postgres';
  dbUrl.password = 'adv-db-pass-0123';
  serverEnv = {
    ...fakes.env,
    ...SECRETS,
    APP_ID: '4242',
    PRIVATE_KEY: privateKey,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
    KINDLER_CONFIG_REPO: CONFIG_REPO,
    DATABASE_URL: dbUrl.toString(),
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    GIT_REPO_URL: path.join(tmp, 'gitops.git'),
    HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
    BASE_DOMAIN: 'adv.test',
    KINDLER_RETRY_DELAYS_MS: 'none',
    KINDLER_LEASE_MS: '3000',
    KINDLER_DRIFT_INTERVAL_MINUTES: '0',
    LOG_LEVEL: 'info',
  };
  server = await startServerProcess(serverEnv);
}, 120_000);
afterEach(() => {
  const found = github.violations.splice(0);
  expect(found, 'requests GitHub would refuse').toEqual([]);
  fakes.clearFailures();
});
afterAll(async () => {
  await server?.stop();
  await github?.close();
  await client?.end();
  await db?.drop();
  fakes?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a real server process under attack', () => {
  it('an authorised create works end to end, and the children it starts hold none of its secrets', async () => {
    const asked = await comment(CONFIG_REPO, 'writer', '/env create adv1 k3d');
    const op = await finished('adv1', 'create');
    expect(op).toMatchObject({ status: 'success', actor: 'writer' });
    const status = await waitFor('the status comment saying ready', () =>
      repliesOn(CONFIG_REPO, asked.issue.number).find((c) => /ready/i.test(c.body)),
    );
    expect(status.body).toContain('adv1');
    const run = await waitFor('the check run concluded', () =>
      github.checkRuns.find((r) => r.name.includes('adv1') && r.updates.at(-1)?.conclusion),
    );
    expect(run.updates.at(-1)).toMatchObject({ conclusion: 'success' });
    // What every k3d/docker child was given.
    const envs = fs
      .readFileSync(path.join(fakes.stateDir, 'env.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(envs.length).toBeGreaterThan(0);
    const everything = JSON.stringify(envs);
    for (const name of [...Object.keys(SECRETS), 'PRIVATE_KEY', 'DATABASE_URL', 'GIT_REPO_URL'])
      expect(
        envs.every((e) => e[name] === undefined),
        name,
      ).toBe(true);
    for (const value of [...Object.values(SECRETS).filter((v) => v.length > 8), 'adv-db-pass']) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(Buffer.from(value).toString('base64'));
    }
    expect(everything).not.toContain('BEGIN RSA PRIVATE KEY');
  });

  it('the config repository rules every repository; others may not issue commands', async () => {
    // acme/web may issue commands, but the rules and permissions are acme/envs's.
    const web = await comment('acme/web', 'writer', '/env create prod-a k3d');
    const [refusal] = await settledReplies('acme/web', web.issue.number);
    expect(refusal!.body).toContain('prod-needs-admin');
    // A repository the policy does not list gets one refusal, whoever asks.
    const stranger = await comment('acme/stranger', 'writer', '/env create prod-b k3d');
    const replies = await settledReplies('acme/stranger', stranger.issue.number);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('acme/envs, acme/web');
    expect(await operations('prod-a')).toEqual([]);
    expect(await operations('prod-b')).toEqual([]);
  });

  it('a retry is judged as the verb it resumes, and records who asked this time; what the failure printed is neither live Markdown nor a secret', async () => {
    const basic = Buffer.from(`${GIT_USER}:${GIT_PASSWORD}`).toString('base64');
    fakes.fail('k3d cluster delete', {
      exit: 1,
      stderr: `boom\n\`\`\`\n</details>\n@everyone [click](http://evil.example/)\nAuthorization: Basic ${basic}\nhttps://${GIT_USER}:${encodeURIComponent(GIT_PASSWORD)}@git.example.test/x.git`,
      times: 1,
    });
    const asked = await comment(CONFIG_REPO, 'alice', '/env delete adv1');
    expect(await finished('adv1', 'delete')).toMatchObject({ status: 'failed', actor: 'alice' });
    const status = await waitFor('the failed status comment', () =>
      repliesOn(CONFIG_REPO, asked.issue.number).find((c) => /failed/i.test(c.body)),
    );
    const published = [
      ...github.comments.flatMap((c) => [c.body, ...c.edits]),
      ...github.checkRuns.flatMap((r) => r.updates.map((u) => JSON.stringify(u))),
    ].join('\n');
    expect(published).toContain('boom');
    for (const secret of [basic, GIT_PASSWORD, encodeURIComponent(GIT_PASSWORD)])
      expect(published).not.toContain(secret);
    const tree = fromMarkdown(status.body) as any;
    const live: string[] = [];
    const visit = (n: any) => {
      if (n.type === 'link' || n.type === 'image') live.push(n.url);
      if (n.type === 'text' && /(^|[^\u200b])@everyone/.test(n.value)) live.push(n.value);
      if (n.type !== 'code' && n.type !== 'inlineCode') n.children?.forEach(visit);
    };
    visit(tree);
    expect(live.filter((l) => l.includes('evil') || l.includes('@everyone'))).toEqual([]);

    // writer may not delete (platform-deletes), so may not finish alice's delete either.
    const refused = await comment(CONFIG_REPO, 'writer', '/env retry adv1');
    const [reply] = await settledReplies(CONFIG_REPO, refused.issue.number);
    expect(reply!.body).toContain('platform-deletes');
    expect((await operations('adv1')).at(-1)).toMatchObject({ status: 'failed', actor: 'alice' });
    // bob may: the retry runs as bob's.
    await comment(CONFIG_REPO, 'bob', '/env retry adv1');
    await waitFor('the retried delete', async () => {
      const last = (await operations('adv1')).at(-1)!;
      return last.status === 'success' ? last : null;
    });
    expect((await operations('adv1')).at(-1)).toMatchObject({ operation: 'delete', actor: 'bob' });
  });

  it('a pull-request label or reopen needs the create permission; forks get nothing', async () => {
    const pr = (action: string, number: number, login: string, fork: boolean) => {
      const p = webhookExample('pull_request', action === 'labeled' ? 'labeled' : 'reopened');
      p.number = number;
      p.pull_request.number = number;
      p.pull_request.html_url = `https://github.com/${CONFIG_REPO}/pull/${number}`;
      p.pull_request.labels = [{ ...(p.label ?? {}), name: 'env:k3d' }];
      p.label = { ...(p.label ?? {}), name: 'env:k3d' };
      p.pull_request.head.repo = {
        ...p.pull_request.head.repo,
        full_name: fork ? 'mallory/envs' : CONFIG_REPO,
      };
      p.repository = {
        ...p.repository,
        name: 'envs',
        full_name: CONFIG_REPO,
        owner: { ...p.repository.owner, login: 'acme' },
      };
      p.sender = { ...p.sender, login, type: 'User' };
      p.installation = { id: github.installationId };
      return JSON.stringify(p);
    };
    expect((await deliver('pull_request', pr('labeled', 60, 'reader', false))).status).toBe(202);
    expect((await deliver('pull_request', pr('reopened', 61, 'writer', true))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await operations('pr-60')).toEqual([]);
    expect(await operations('pr-61')).toEqual([]);
  });

  it('2,000 commands in one comment get one reply; an outsider gets one short refusal', async () => {
    const many = Array.from({ length: 2_000 }, (_, i) => `/env status x${i}`).join('\n');
    const asked = await comment(CONFIG_REPO, 'reader', many);
    const replies = await settledReplies(CONFIG_REPO, asked.issue.number);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('1990 more');
    const outsider = await comment(
      CONFIG_REPO,
      'mallory',
      Array.from({ length: 2_000 }, (_, i) => `/env create x${i} k3d`).join('\n'),
    );
    const refusal = await settledReplies(CONFIG_REPO, outsider.issue.number);
    expect(refusal).toHaveLength(1);
    expect(refusal[0]!.body.length).toBeLessThan(400);
    expect(await operations('x0')).toEqual([]);
  });

  it('15 × /env check in one comment run one consistency check', async () => {
    fakes.clearArgv();
    const runs = github.checkRuns.length;
    const asked = await comment(
      CONFIG_REPO,
      'reader',
      Array.from({ length: 15 }, () => '/env check').join('\n'),
    );
    // One reply refuses the fourteen repeats; the check answers in one of its own when it ends.
    const replies = await settledReplies(CONFIG_REPO, asked.issue.number, 2);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(repliesOn(CONFIG_REPO, asked.issue.number)).toHaveLength(2);
    expect(
      replies.filter((r) => r.body.includes('One consistency run per comment')).map((r) => r.body),
    ).toHaveLength(1);
    expect(replies.find((r) => !r.body.includes('One consistency run per comment'))?.body).toMatch(
      /^> \/env check\n\n/,
    );
    expect(github.checkRuns.length - runs).toBeLessThanOrEqual(1);
    const lists = fakes.argv().filter((a) => a.join(' ').startsWith('k3d cluster list'));
    expect(lists.length).toBeLessThanOrEqual(1);
  });

  it('forged event names do not grow /metrics', async () => {
    const size = async () => (await (await fetch(`${server.base}/metrics`)).text()).length;
    const before = await size();
    for (let i = 0; i < 1_000; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          fetch(`${server.base}/api/github/webhooks`, {
            headers: { 'x-github-event': `evil-${i + j}-${'A'.repeat(200)}` },
          }).then((r) => r.arrayBuffer()),
        ),
      );
    const text = await (await fetch(`${server.base}/metrics`)).text();
    expect(text).not.toContain('evil-');
    expect(text.length - before).toBeLessThan(4_096);
  });

  it('twenty forged 24 MB bodies at once are refused without memory growing past the bound', async () => {
    const big = Buffer.alloc(24 * 1024 * 1024, 'a');
    server.resetPeak();
    const idle = server.rss();
    // A sender that declared 24 MB and stalls after the first megabyte holds this address's share
    // of the budget however fast the others are read (a loaded machine serialises them).
    const stalled = await Promise.all(
      Array.from({ length: 1 }, async (_, i) => {
        const socket = net.connect(Number(new URL(server.base).port), '127.0.0.1');
        await new Promise((r) => socket.once('connect', r));
        socket.write(
          `POST /api/github/webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
            `x-github-event: issue_comment\r\nx-github-delivery: stalled-${i}\r\n` +
            `x-hub-signature-256: sha256=${'0'.repeat(64)}\r\ncontent-length: ${big.length}\r\n\r\n`,
        );
        socket.write(big.subarray(0, 1024 * 1024));
        socket.on('error', () => undefined);
        return socket;
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        deliver('issue_comment', big, { signature: `sha256=${'0'.repeat(64)}` }).then(
          (r) => r.status,
          () => 'reset',
        ),
      ),
    );
    // Each is refused: 400 (read whole, the signature does not match) or 503 (over the bytes held
    // at once; the connection may close before the client has sent everything).
    expect(
      answers.every((s) => s === 400 || s === 503 || s === 'reset'),
      String(answers),
    ).toBe(true);
    for (const socket of stalled) socket.destroy();
    // The budget refused some before reading them: a 503, or (the connection closed while the
    // client was still sending) a reset. A body read whole is answered 400, never reset.
    expect(
      answers.filter((s) => s === 503 || s === 'reset').length,
      String(answers),
    ).toBeGreaterThan(0);
    const grown = server.peakRss() - idle;
    process.stdout.write(
      `20 × 24 MB forged: idle ${Math.round(idle / 2 ** 20)} MB, peak +${Math.round(grown / 2 ** 20)} MB; ${answers.filter((s) => s === 503).length} answered 503\n`,
    );
    // 64 MB of bodies held at once, a copy being verified, and what the refused sockets still
    // stream through before they close and the collector catches up (120–175 MB measured here);
    // unbounded, twenty bodies grew it by more than 500 MB.
    expect(grown, `peak grew ${Math.round(grown / 2 ** 20)} MB`).toBeLessThan(320 * 2 ** 20);
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
  });

  it('a payload that breaks a logger does not stop logging', async () => {
    const deep = (n: number): unknown => (n === 0 ? {} : { a: deep(n - 1) });
    const nested = commentPayload(CONFIG_REPO, 'writer', '/env list');
    // The handler throws on it (no repository), and the whole event is 1,000 levels deep.
    nested.repository = deep(1_000);
    nested.issue = deep(1_000);
    for (let i = 0; i < 2; i++)
      expect((await deliver('issue_comment', JSON.stringify(nested))).status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 1_500));
    const mark = server.output().length;
    // A later failing delivery is still logged.
    const broken = commentPayload(CONFIG_REPO, 'writer', '/env list');
    broken.repository = { owner: null, name: 7 };
    await deliver('issue_comment', JSON.stringify(broken));
    await waitFor('a log line after the deep payload', () => server.output().length > mark);
    expect(server.output()).not.toMatch(/MaxDepthExceeded|FATAL/);
    // The logs never hold a payload whole (the 1,000-deep object would be kilobytes of "a").
    expect(server.output()).not.toContain('{"a":{"a":{"a":');
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
  });

  it('a replayed delivery acts once; inline code is not an argument', async () => {
    const p = commentPayload(CONFIG_REPO, 'writer', '/env create rp1 k3d');
    const body = JSON.stringify(p);
    expect((await deliver('issue_comment', body, { id: 'replay-1' })).status).toBeLessThan(300);
    await finished('rp1', 'create');
    expect((await deliver('issue_comment', body, { id: 'replay-2' })).status).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await operations('rp1')).toHaveLength(1);

    const code = await comment(CONFIG_REPO, 'writer', '/env create `touch x` k3d');
    const [reply] = await settledReplies(CONFIG_REPO, code.issue.number);
    expect(reply!.body).toMatch(/code/i);
    expect(await operations('k3d')).toEqual([]);
  });

  it('malformed requests are 4xx, never 5xx', async () => {
    const signed = async (raw: string | Buffer) => (await deliver('issue_comment', raw)).status;
    expect(await signed('')).toBe(400);
    expect(await signed('null')).toBe(400);
    expect(await signed('[1]')).toBe(400);
    expect(await signed(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe(400);
    expect((await deliver('issue_comment', '{}', { signature: null })).status).toBe(400);
    const forged = await deliver('issue_comment', '{}', { signature: 'sha256=00' });
    expect(forged).toMatchObject({ status: 400, text: expect.stringContaining('signature') });
    const elsewhere = await deliver('issue_comment', '{}', { path: '/api/github/webhooksXYZ' });
    expect(elsewhere.status).toBe(404);
    const token = { authorization: `Bearer ${SECRETS.KINDLER_DASHBOARD_TOKEN}` };
    expect(
      (await fetch(`${server.base}/kindler/environments/%ZZ`, { headers: token })).status,
    ).toBe(400);
  });

  it('with the database gone, /env list answers from a snapshot that already holds the newest environment', async () => {
    const asked = await comment(CONFIG_REPO, 'writer', '/env create snap1 k3d');
    await waitFor('snap1 recorded', async () => (await operations('snap1')).length > 0);
    const name = new URL(db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`alter database ${name} with allow_connections false`);
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    try {
      const listed = await comment(CONFIG_REPO, 'reader', '/env list');
      const [reply] = await settledReplies(CONFIG_REPO, listed.issue.number);
      expect(reply!.body).toContain('snap1');
      expect(reply!.body).toContain('rp1');
      expect(asked.issue.number).not.toBe(listed.issue.number);
      // What the queue and the pool said about the outage is a message, not `[object Object]`.
      expect(server.output()).toContain('not currently accepting connections');
      expect(server.output()).not.toContain('[object Object]');
    } finally {
      await admin.query(`alter database ${name} with allow_connections true`);
      await admin.end();
      await client.end().catch(() => undefined);
      client = new pg.Client({ connectionString: db.url });
      await client.connect();
    }
  });
});

describe('SIGKILL of the server during a slow cluster create', () => {
  it('takes the cluster CLI down with it, and the restarted server finishes the create once', async () => {
    await server.stop();
    fakes.fail('k3d cluster create', { delayMs: 4_000 });
    server = await startServerProcess(serverEnv);
    await comment(CONFIG_REPO, 'writer', '/env create slow1 k3d');
    const running = path.join(fakes.stateDir, 'running');
    const creating = () =>
      fs.readdirSync(running).filter((pid) => {
        try {
          return fs.readFileSync(path.join(running, pid), 'utf8').includes('cluster create');
        } catch {
          return false; // it ended between the listing and the read
        }
      });
    const [pid] = await waitFor('k3d cluster create running', () => {
      const found = fs.existsSync(running) ? creating() : [];
      return found.length ? found : null;
    });
    await server.stop('SIGKILL');
    // The child dies with its parent (it would otherwise sleep on and then create the cluster).
    await waitFor('the orphaned k3d to die', () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    });
    fakes.clearFailures();
    const restarted = Date.now();
    server = await startServerProcess(serverEnv);
    // The dead server's job is failed when its heartbeat (10 s) is missed, then taken again.
    const op = await finished('slow1', 'create', 60_000);
    process.stdout.write(`resumed and finished ${Date.now() - restarted} ms after the restart\n`);
    expect(op.status).toBe('success');
    expect(await operations('slow1')).toHaveLength(1);
    expect(Object.keys(fakes.state().k3d)).toContain('slow1');
  }, 90_000);
});
