// Webhook-to-answer latency for a burst of signed deliveries against the real server (signature
// verified, the delivery stored in the durable queue, answered), sent by a load generator in its
// own process, while the app handles the stored deliveries; and the GitHub API requests one
// `/env create` costs from the comment to the final reaction.
import { appPrivateKey } from '../test/support/github-fixtures.js';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { loadConfig } from '../src/config/config.js';
import { Probot, ProbotOctokit } from 'probot';
import { kindlerApp } from '../src/github/app.js';
import { PermissionCache } from '../src/github/permissions.js';
import { outboxOver } from '../src/github/outbox.js';
import { operationReporter } from '../src/github/reporter.js';
import { startGitHub } from '../src/github/start.js';
import { Worker } from '../src/github/worker.js';
import { Engine } from '../src/lifecycle/engine.js';
import { openRuntime } from '../src/runtime.js';
import { healthHandler, startHttpServer } from '../src/server/http-server.js';
import { createTestDatabase } from '../test/support/db.js';
import { fakeSystems } from '../test/support/fake-steps.js';
import type { Figure } from './figure.js';

const SECRET = 'bench-secret';
const execFileAsync = promisify(execFile);

export async function webhookFigures(count = 500, inFlight = 10): Promise<Figure[]> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-'));
  const rt = await openRuntime(loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp }, tmp));
  await rt.store.migrate();
  const privateKey = appPrivateKey();
  const github = await startGitHub(
    rt,
    { APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'fatal' },
    'bench:server',
  );
  // The bot's own answer time: from the request reaching the handler to the response finishing.
  let serverTimes: number[] = [];
  const timed: typeof github.handler = async (req, res) => {
    const start = performance.now();
    res.once('finish', () => serverTimes.push(performance.now() - start));
    return github.handler!(req, res);
  };
  const server = await startHttpServer([healthHandler(rt), timed], '127.0.0.1', 0);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/github/webhooks`;
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // /env help is answered through the GitHub API (👀 and a comment; the permission once, cached).
  nock('https://api.github.com')
    .persist()
    .post(/\/repos\/o\/r\/issues\/comments\/\d+\/reactions/)
    .reply(201, {})
    .post('/repos/o/r/issues/1/comments')
    .reply(201, { id: 1 })
    .get(/\/repos\/o\/r\/contents\/.*/)
    .reply(404, { message: 'Not Found' })
    .get('/repos/o/r/collaborators/u/permission')
    .reply(200, { permission: 'read', user: { login: 'u' } });
  const run = async (key: string, label: string, text: string): Promise<Figure[]> => {
    serverTimes = [];
    const deliveries = Array.from({ length: count }, (_, i) => {
      const body = JSON.stringify({
        action: 'created',
        comment: { id: i + 1, body: text, html_url: 'https://x' },
        issue: { number: 1 },
        repository: { name: 'r', owner: { login: 'o' } },
        sender: { login: 'u', type: 'User' },
      });
      return {
        body,
        headers: {
          'x-github-event': 'issue_comment',
          'x-github-delivery': `${key}-${i}`,
          'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      };
    });
    const file = path.join(tmp, `${key}.json`);
    fs.writeFileSync(file, JSON.stringify(deliveries));
    const { stdout } = await execFileAsync(process.execPath, [
      path.join(import.meta.dirname, 'load-client.mjs'),
      url,
      file,
      String(inFlight),
    ]);
    const client = (JSON.parse(stdout) as number[]).sort((a, b) => a - b);
    const own = [...serverTimes].sort((a, b) => a - b);
    const q = (xs: number[], p: number) =>
      xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;
    return [
      {
        name: `${label}: the bot's answer time p50 (burst of ${count} signed deliveries, ${inFlight} in flight)`,
        value: q(own, 0.5),
        unit: 'ms',
        goal: '—',
      },
      {
        name: `${label}: the bot's answer time p99`,
        value: q(own, 0.99),
        unit: 'ms',
        goal: '< 50 ms',
      },
      {
        name: `${label}: round trip seen by a client in another process, p99`,
        value: q(client, 0.99),
        unit: 'ms',
        goal: '—',
      },
    ];
  };
  try {
    return [
      ...(await run('plain', 'comment without a command', 'looks good to me')),
      ...(await run('help', '/env help (👀 and an answer through the GitHub API)', '/env help')),
    ];
  } finally {
    // Stopped before nock lets the network back: a write still going out is not sent to GitHub.
    server.close();
    await github.worker.stop();
    await rt.close();
    nock.cleanAll();
    nock.enableNetConnect();
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Counts every GitHub request one `/env create` makes, from the comment to the final reaction:
 * probot.receive → handler → worker with instant systems, every request answered by nock.
 */
export async function apiRequestsPerCreate(): Promise<Figure[]> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-'));
  const real = await openRuntime(loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp }, tmp));
  await real.store.migrate();
  const rt = {
    ...real,
    engine: new Engine({ store: real.store, handlers: fakeSystems().handlers, retryDelaysMs: [] }),
  };
  const requests: string[] = [];
  nock.disableNetConnect();
  const answer = (uri: string) => {
    if (uri.includes('/contents/')) return [404, { message: 'Not Found' }];
    if (uri.includes('/permission')) return [200, { permission: 'write' }];
    if (uri.endsWith('/branches/main')) return [200, { commit: { sha: 'a'.repeat(40) } }];
    if (/\/repos\/[^/]+\/[^/]+$/.test(uri)) return [200, { default_branch: 'main' }];
    return [201, { id: 1 }];
  };
  for (const method of ['get', 'post', 'patch'] as const) {
    const scope = nock('https://api.github.com').persist();
    scope[method](/.*/).reply(function (uri: unknown) {
      // nock 15 hands over the request, older versions the path: take the path either way.
      const where = typeof uri === 'string' ? uri : new URL((uri as { url: string }).url).pathname;
      requests.push(`${method.toUpperCase()} ${where}`);
      return answer(where) as [number, object];
    });
  }
  try {
    const probot = new Probot({
      githubToken: 'ghs_bench',
      Octokit: ProbotOctokit.defaults((o: object) => ({
        ...o,
        retry: { enabled: false },
        throttle: { enabled: false },
      })),
      logLevel: 'fatal',
    });
    await probot.load(kindlerApp({ rt, permissions: new PermissionCache() }));
    const payload = {
      action: 'created',
      comment: {
        id: 5,
        body: '/env create bench-env',
        html_url: 'https://github.com/o/r/issues/1#issuecomment-5',
      },
      issue: { number: 1 },
      repository: { name: 'r', owner: { login: 'o' } },
      sender: { login: 'u', type: 'User' },
      installation: { id: 1 },
    };
    await probot.receive({ id: 'bench-1', name: 'issue_comment', payload } as never);
    const octokit = await probot.auth();
    await new Worker(rt, {
      owner: 'bench:w',
      concurrency: 1,
      observerFor: async () => operationReporter(outboxOver(rt), { client: octokit as never }),
    }).tick();
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
    await rt.close();
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return [
    {
      name: 'GitHub API requests per /env create (reactions, comment, check run; branch via git)',
      value: requests.length,
      unit: 'requests',
      goal: '≤ 12',
    },
  ];
}
