// The dashboard in real headless Chromium (Debian's, driven by playwright-core) against a real
// PostgreSQL reached through a TCP proxy the test can cut: the table's content, a link to an
// environment's page with its step timeline, a screenshot kept as an artifact; then the database
// becomes unreachable and the page shows the degraded banner with the CSV data; then it recovers
// without a restart. The JSON API is checked against its documented shape, and the token guard.
import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { kindlerApp, receiveDelivery } from '../../src/github/app.js';
import { loadConfig } from '../../src/config/config.js';
import { PermissionCache } from '../../src/github/permissions.js';
import { LATEST_REPORT } from '../../src/consistency/check.js';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { command, type NextCommand, envName } from '../../src/domain/index.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { healthHandler, startHttpServer } from '../../src/server/http-server.js';
import { Metrics } from '../../src/server/metrics.js';
import { WEBHOOK_EVENTS } from '../../src/github/app.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { outboxOver } from '../../src/github/outbox.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { webhookExample, unmarked } from '../support/github-fixtures.js';
import { contractProbot, expectNoContractViolations } from '../support/github-contract.js';

/** A TCP proxy to PostgreSQL that can be cut (listener closed, connections destroyed) and restored on the same port. */
class CuttableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

// The shapes the README documents for /kindler/api/*.
const envView = z
  .object({
    name: z.string(),
    provider: z.enum(['k3d', 'kind']),
    status: z.string().nullable(),
    httpPort: z.number().int(),
    httpsPort: z.number().int(),
    pfPort: z.number().int(),
    nodePort: z.number().int(),
    subnet: z.string().nullable(),
    url: z.string().url(),
    createdAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    pinned: z.boolean().nullable(),
    labels: z.record(z.string(), z.string()).nullable(),
    registerPortainer: z.boolean(),
    haproxyRoute: z.boolean(),
    servers: z.number().int().min(1).nullable(),
    agents: z.number().int().min(0).nullable(),
    nodeCpus: z.number().positive().nullable(),
    nodeMemoryMib: z.number().int().positive().nullable(),
    site: z.string().nullable(),
    requestedBy: z.string().nullable(),
    sourceUrl: z.string().nullable(),
    deployed: z
      .object({ repo: z.string(), sha: z.string().regex(/^[0-9a-f]{40}$/), at: z.string() })
      .strict()
      .nullable(),
    health: z
      .object({
        health: z.enum(['healthy', 'progressing', 'degraded', 'unknown']),
        reason: z.string(),
        since: z.string(),
        checkedAt: z.string(),
        parts: z.array(
          z
            .object({
              system: z.enum(['argocd', 'portainer', 'app']),
              state: z.enum(['healthy', 'progressing', 'degraded', 'unknown', 'skipped']),
              detail: z.string(),
              latencyMs: z.number().optional(),
            })
            .strict(),
        ),
      })
      .strict()
      .nullable(),
  })
  .strict();
const degradedFields = {
  degraded: z.literal(true),
  reason: z.string(),
  snapshotAt: z.string().nullable(),
};
const live = { degraded: z.literal(false) };
const step = z.object({
  step: z.string(),
  status: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  detail: z.string().nullable(),
  error: z.string().nullable(),
});
const operation = z
  .object({
    id: z.number().int(),
    envName: z.string(),
    kind: z.enum(['create', 'delete', 'sync', 'prune', 'deploy', 'stop', 'start', 'update']),
    status: z.string(),
    steps: z.array(step),
    trigger: z.object({ source: z.string(), actor: z.string().nullable() }).passthrough(),
  })
  .passthrough();
const schemas = {
  environments: z.union([
    z.object({ ...live, environments: z.array(envView), next: z.string().nullable() }).strict(),
    z
      .object({ ...degradedFields, environments: z.array(envView), next: z.string().nullable() })
      .strict(),
  ]),
  environment: z
    .object({
      degraded: z.boolean(),
      environment: envView.nullable(),
      operations: z.array(operation),
    })
    .passthrough(),
  operations: z.object({ degraded: z.boolean(), operations: z.array(operation) }).passthrough(),
  consistency: z
    .object({
      degraded: z.boolean(),
      report: z
        .object({
          consistent: z.boolean(),
          summary: z.string(),
          checkedAt: z.string(),
          systems: z.array(
            z.object({ system: z.string(), state: z.string(), detail: z.string() }).passthrough(),
          ),
          discrepancies: z.array(
            z.object({
              kind: z.string(),
              system: z.string(),
              name: z.string(),
              detail: z.string(),
              fix: z.union([
                z.object({
                  verb: z.string(),
                  args: z.array(z.string()),
                  first: z.string().optional(),
                }),
                z.object({ shell: z.string() }),
              ]),
            }),
          ),
          matrix: z.array(z.unknown()),
        })
        .passthrough()
        .nullable(),
    })
    .passthrough(),
};

describe('dashboard in headless Chromium', () => {
  let db: TestDatabase;
  let proxy: CuttableProxy;
  let rt: Runtime;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let tmp: string;
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${p}`, { headers });
    return {
      status: res.status,
      body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text(),
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = new CuttableProxy();
    await proxy.start();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-dashboard-'));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    rt = await openRuntime(
      loadConfig(
        { DATABASE_URL: url.toString(), KINDLER_DATA_DIR: tmp, BASE_DOMAIN: 'example.test' },
        tmp,
      ),
    );
    await rt.store.migrate();
    const dev = await rt.store.insertEnvironment({
      name: envName('dev'),
      provider: 'k3d',
      requestedBy: 'octocat',
      sourceUrl: 'https://github.com/acme/cfg/issues/7',
      expiresAt: new Date(Date.now() + 3 * 3_600_000),
    });
    await rt.store.updateEnvironment(dev.name, { status: 'ready' });
    await rt.store.insertEnvironment({
      name: envName('web-kind'),
      provider: 'kind',
      requestedBy: 'alice',
      sourceUrl: 'cli',
    });
    const op = await rt.store.createOperation({
      envName: dev.name,
      kind: 'create',
      trigger: {
        source: 'issue_comment',
        actor: 'octocat',
        url: null,
        repo: 'acme/cfg',
        issueNumber: 7,
        headSha: null,
      },
    });
    const t = new Date('2026-11-25T08:00:00Z');
    for (const [i, s] of (['record', 'branch', 'cluster'] as const).entries()) {
      await rt.store.saveStep(op.id, {
        step: s,
        status: 'done',
        startedAt: new Date(t.getTime() + i * 10_000),
        completedAt: new Date(t.getTime() + i * 10_000 + 4_200),
        detail: `${s} ok`,
        error: null,
      });
    }
    await rt.store.saveStep(op.id, {
      step: 'portainer',
      status: 'failed',
      startedAt: t,
      completedAt: new Date(t.getTime() + 1_000),
      detail: null,
      error: 'Portainer answered 500',
    });
    await rt.store.updateOperation(op.id, {
      status: 'failed',
      failedStep: 'portainer',
      error: 'Portainer answered 500',
      fixCommand: command('retry', 'dev'),
      completedAt: new Date(),
    });
    await rt.refreshSnapshot();
    const report: ConsistencyReport = {
      checkedAt: t.toISOString(),
      consistent: false,
      summary: 'Inconsistent: 1 difference (1 orphan)',
      busy: [],
      systems: [
        { system: 'database', state: 'ok', detail: '2 environments', count: 2 },
        { system: 'portainer', state: 'skipped', detail: 'PORTAINER_URL is not set', count: null },
      ],
      discrepancies: [
        {
          kind: 'orphan',
          system: 'git',
          name: 'old',
          detail: 'branch "old" has no database row',
          // Stored before commands were values: read back as one.
          fix: 'kindler prune --confirm old' as unknown as NextCommand,
        },
      ],
      matrix: [
        {
          name: 'old',
          provider: null,
          inDatabase: false,
          status: null,
          cells: {
            git: 'orphan',
            cluster: 'absent',
            portainer: 'absent',
            argocd: 'absent',
            haproxy: 'absent',
          },
        },
      ],
    };
    await rt.store.setState(LATEST_REPORT, report);
    server = await startHttpServer(
      [
        healthHandler(rt),
        dashboardHandler(rt, { metrics: new Metrics(rt, { webhookEvents: WEBHOOK_EVENTS }) }),
      ],
      '127.0.0.1',
      0,
    );
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await rt?.close();
    await proxy?.cut();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the environments and the latest consistency report, links to an environment with its step timeline', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
    await page.goto(`${base}/kindler`);
    expect(await page.title()).toBe('environments · kindler');
    const rows = await page
      .locator('table >> nth=0 >> tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('th,td')].map((c) =>
            (c as unknown as { innerText: string }).innerText.trim(),
          ),
        ),
      );
    // Health is "–" until the reconcile loop has looked.
    expect(rows.map((r) => r.slice(0, 6))).toEqual([
      ['dev', 'k3d', 'ready', '–', '18090 / 18443', '10.101.0.0/16'],
      ['web-kind', 'kind', 'creating', '–', '18091 / 18444', '–'],
    ]);
    expect(rows[0]?.[6]).toBe('http://whoami.dev.example.test:18090');
    expect(rows[0]?.[8]).toBe('in 3h');
    expect(rows[0]?.[9]).toBe('octocat · source');
    expect(rows[1]?.[9]).toBe('alice · cli');
    await expect(page.locator('#consistency + p').innerText()).resolves.toContain(
      'Inconsistent: 1 difference (1 orphan)',
    );
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-list.png'), fullPage: true });

    await page.getByRole('link', { name: 'dev', exact: true }).click();
    await page.waitForURL(`${base}/kindler/environments/dev`);
    const timeline = await page.locator('ol.steps li').allInnerTexts();
    expect(timeline.slice(0, 4)).toEqual([
      'done record 4.2 s — record ok',
      'done branch 4.2 s — branch ok',
      'done cluster 4.2 s — cluster ok',
      'failed portainer 1.0 s — Portainer answered 500',
    ]);
    await expect(page.locator('h3').first().innerText()).resolves.toBe('create #1 — failed');
    await expect(page.locator('section p.st-failed').innerText()).resolves.toBe(
      'Portainer answered 500',
    );
    // What to check, and the fix (a command here: nobody is signed in to press a button).
    await expect(page.locator('section p.st-failed + p').innerText()).resolves.toBe(
      'To resolve, check PORTAINER_URL and the API key or admin password, and that Portainer is up. — next: kindler retry dev',
    );
    await page.screenshot({
      path: path.join(ARTIFACTS, 'dashboard-environment.png'),
      fullPage: true,
    });
    expect(fs.statSync(path.join(ARTIFACTS, 'dashboard-environment.png')).size).toBeGreaterThan(
      5_000,
    );
    await page.close();
  });

  it('answers the JSON API in its documented shapes', async () => {
    const envs = await get('/kindler/api/environments');
    expect(schemas.environments.parse(envs.body).environments.map((e) => e.name)).toEqual([
      'dev',
      'web-kind',
    ]);
    // A page at a time, in name order: `next` is where the next page starts.
    const first = schemas.environments.parse((await get('/kindler/api/environments?limit=1')).body);
    expect([first.environments.map((e) => e.name), first.next]).toEqual([['dev'], 'dev']);
    const second = schemas.environments.parse(
      (await get(`/kindler/api/environments?limit=1&after=${first.next}`)).body,
    );
    expect([second.environments.map((e) => e.name), second.next]).toEqual([['web-kind'], null]);
    expect(await get('/kindler/api/environments?limit=0')).toEqual({
      status: 400,
      body: { error: 'limit must be a whole number from 1 to 1000' },
    });
    const one = await get('/kindler/api/environments/dev');
    expect(
      schemas.environment.parse(one.body).operations[0]?.steps.find((s) => s.step === 'portainer')
        ?.error,
    ).toBe('Portainer answered 500');
    const ops = await get('/kindler/api/operations?env=dev&limit=5');
    expect(schemas.operations.parse(ops.body).operations).toHaveLength(1);
    const report = await get('/kindler/api/consistency');
    expect(schemas.consistency.parse(report.body).report?.discrepancies[0]?.fix).toEqual({
      verb: 'prune',
      args: ['--confirm', 'old'],
    });
    expect(await get('/kindler/api/environments/nope')).toEqual({
      status: 404,
      body: { error: 'no environment named "nope"' },
    });
    expect((await get('/kindler/api/operations?limit=0')).body).toEqual({
      error: 'limit must be a whole number from 1 to 1000',
    });
    const metrics = await get('/metrics');
    expect(metrics.body).toContain('kindler_operations{verb="create",outcome="failed"} 1');
    // Prometheus conventions: _total only on counters, no doubled prefix.
    const types = [...String(metrics.body).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(types.length).toBeGreaterThan(10);
    for (const [name, type] of types) {
      expect(name, `${name} is a ${type}`).toMatch(/^kindler_/);
      expect(name!.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
      expect(name).not.toMatch(/process_process|kindler_kindler/);
    }
    expect(metrics.body).toContain('kindler_queue_depth 0');
    expect(metrics.body).toContain('kindler_environments{status="ready"} 1');
    expect((await get('/readyz')).body).toEqual({
      ok: true,
      checks: { database: 'ok', migrations: 'ok', queue: 'ok' },
    });
  });

  it('shows repairs as operations like any other: a sync and a prune, with actor, trigger and steps', async () => {
    const trigger = {
      source: 'issue_comment' as const,
      actor: 'carol',
      url: null,
      repo: 'acme/envs',
      issueNumber: 9,
      headSha: null,
    };
    const sync = await rt.engine.request({
      kind: 'sync',
      name: envName('web-kind'),
      steps: ['haproxy'],
      trigger,
    });
    const prune = await rt.engine.request({
      kind: 'prune',
      name: envName('old'),
      steps: ['branch'],
      trigger,
    });
    try {
      const listed = schemas.operations.parse(
        (await get('/kindler/api/operations?limit=50')).body,
      ).operations;
      for (const [op, pending] of [
        [sync, ['haproxy', 'ready']],
        [prune, ['branch']],
      ] as const) {
        const shown = listed.find((o) => o.id === op.id)!;
        expect(shown).toMatchObject({ kind: op.kind, status: 'queued' });
        expect(shown.trigger).toMatchObject({ actor: 'carol', source: 'issue_comment' });
        expect(shown.steps.filter((s) => s.status === 'pending').map((s) => s.step)).toEqual(
          pending,
        );
      }
      const page = await (await fetch(`${base}/kindler/environments/web-kind`)).text();
      expect(page).toContain(`sync #${sync.id}`);
    } finally {
      for (const op of [sync, prune])
        await rt.store.updateOperation(op.id, { status: 'cancelled', completedAt: new Date() });
    }
  });

  it('shows what GitHub did not take: on the page, in the API and in the metrics', async () => {
    const outbox = outboxOver(rt, { retryDelaysMs: [], clientFor: async () => null });
    // No installation covers the repository: the write is kept for the next pass.
    const sent = await outbox.send(
      { kind: 'comment', repo: { owner: 'acme', repo: 'envs' }, issueNumber: 3, body: 'hi' },
      { key: 'dash-undelivered' },
    );
    expect(sent).toMatchObject({ delivered: false });
    const api = (await get('/kindler/api/github-writes')).body as {
      writes: { what: string; repo: string; state: string; error: string }[];
    };
    expect(api.writes).toContainEqual(
      expect.objectContaining({
        what: 'comment',
        repo: 'acme/envs',
        state: 'pending',
        error: 'no installation of the app covers acme/envs',
      }),
    );
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/kindler`);
      const section = page.getByRole('table', { name: /GitHub has not taken/ });
      await section.waitFor();
      expect(await section.innerText()).toContain('no installation of the app covers acme/envs');
      expect(await section.innerText()).toContain('will be tried again');
    } finally {
      await page.close();
    }
    expect((await get('/metrics')).body).toContain(
      'kindler_github_writes_undelivered{state="pending"} 1',
    );
  });

  it('shows the degraded banner with the CSV data while the database is unreachable, and recovers without a restart', async () => {
    const page = await browser.newPage();
    await proxy.cut();
    await page.goto(`${base}/kindler`);
    const banner = page.getByRole('alert');
    await expect(banner.innerText()).resolves.toMatch(
      /^Degraded: the database is unreachable \(.+\)\. Showing the CSV snapshot from \d{4}-\d\d-\d\dT/,
    );
    const rows = await page
      .locator('table >> nth=0 >> tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('th,td')]
            .map((c) => (c as unknown as { innerText: string }).innerText.trim())
            .slice(0, 5),
        ),
      );
    expect(rows).toEqual([
      ['dev', 'k3d', 'unknown', '–', '18090 / 18443'],
      ['web-kind', 'kind', 'unknown', '–', '18091 / 18444'],
    ]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-degraded.png'), fullPage: true });
    const api = await get('/kindler/api/environments');
    expect(schemas.environments.parse(api.body)).toMatchObject({
      degraded: true,
      environments: [
        { name: 'dev', status: null },
        { name: 'web-kind', status: null },
      ],
    });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect((ready.body as { checks: { database: string } }).checks.database).toMatch(
      /^unreachable: /,
    );

    // /env list answers from the snapshot, marked degraded; /env create is refused and changes nothing.
    const probot = contractProbot();
    await probot.load(kindlerApp({ rt, permissions: new PermissionCache() }));
    const payload = webhookExample('issue_comment', 'created');
    Object.assign(payload.comment, { body: '/env list\n/env create qa', id: 4242 });
    payload.installation = { id: 77 };
    let reply = '';
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    // Authorised first, as always: the snapshot is shown to those who may read.
    nock('https://api.github.com')
      .get(/\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)kindler\.yml/)
      .reply(404, { message: 'Not Found' })
      .get('/repos/Codertocat/Hello-World/collaborators/Codertocat/permission')
      .reply(200, { permission: 'write', user: { login: 'Codertocat' } })
      .post('/repos/Codertocat/Hello-World/issues/1/comments', (b) => {
        reply = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 1 });
    await receiveDelivery(probot, { id: 'degraded-1', name: 'issue_comment', payload });
    nock.enableNetConnect();
    expect(reply).toMatch(/^⚠️ \*\*Degraded:\*\* the database is unreachable \(.+\)\./);
    expect(reply).toContain('| dev | k3d | 18090 | 18443 | 10.101.0.0/16 |');
    expect(reply).toContain(
      '> /env create qa\n\nRefused: `/env create` needs the database, and nothing was changed.',
    );

    await proxy.start(); // same port
    await page.reload();
    await expect(banner.count()).resolves.toBe(0);
    await expect(
      page.locator('table >> nth=0 >> tbody tr >> nth=0 >> td >> nth=1').innerText(),
    ).resolves.toBe('ready');
    expect((await get('/kindler/api/environments')).body).toMatchObject({ degraded: false });
    await page.close();
  });

  it('with a token: refuses without it, accepts the Bearer header, and turns ?token= into a cookie', async () => {
    const guarded = await startHttpServer(
      [dashboardHandler(rt, { token: 's3cret-dashboard-token' })],
      '127.0.0.1',
      0,
    );
    const at = `http://127.0.0.1:${(guarded.address() as net.AddressInfo).port}`;
    try {
      const refused = await fetch(`${at}/kindler/api/environments`);
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('s3cret');
      const ok = await fetch(`${at}/kindler/api/environments`, {
        headers: { authorization: 'Bearer s3cret-dashboard-token' },
      });
      expect(((await ok.json()) as { environments: unknown[] }).environments).toHaveLength(2);
      const page = await browser.newPage();
      await page.goto(`${at}/kindler?token=s3cret-dashboard-token`);
      expect(page.url()).toBe(`${at}/kindler`);
      await expect(page.locator('h2#environments').innerText()).resolves.toBe('Environments');
      await page.close();
    } finally {
      guarded.close();
    }
  });
});

afterEach(() => expectNoContractViolations());
