// Live pages in headless Chromium against a real PostgreSQL: an operation written by another
// process (a second store on the same database, as the CLI or a replica would) reaches every open
// page through LISTEN/NOTIFY and Server-Sent Events, without a reload; the live region says what
// moved. The event stream itself, on PostgreSQL and the embedded default: filtered by environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { envName, type Trigger } from '../../src/domain/index.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { ARTIFACTS, launchChromium, serveDashboard } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { removeEmbedded } from '../support/embedded.js';

const trigger: Trigger = {
  source: 'cli',
  actor: 'alice',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
};

describe('live console pages', () => {
  let db: TestDatabase;
  let rt: Runtime;
  /** Another process's store on the same database. */
  let other: Store;
  let served: Awaited<ReturnType<typeof serveDashboard>>;
  let dashboard: ReturnType<typeof dashboardHandler>;
  let base: string;
  let browser: Browser;
  let tmp: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-live-'));
    const config = loadConfig(
      { DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp, BASE_DOMAIN: 'example.test' },
      tmp,
    );
    rt = await openRuntime(config);
    other = await openStore(config);
    dashboard = dashboardHandler(rt);
    served = await serveDashboard(dashboard);
    base = served.base;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await other?.close();
    await rt?.close();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('two browser sessions watch the same operation tick live, without reloading', async () => {
    const env = await other.insertEnvironment({ name: envName('live1'), provider: 'kind' });
    const op = await other.createOperation({ envName: env.name, kind: 'create', trigger });
    const pages = await Promise.all([0, 1].map(async () => (await browser.newContext()).newPage()));
    let navigations = 0;
    for (const page of pages) {
      await page.goto(`${base}/kindler/environments/live1`);
      page.on('framenavigated', () => navigations++);
      await page.waitForFunction(
        'document.querySelector(\'script[src="/kindler/assets/live.js"]\')',
      );
    }
    // Give the event streams a moment to open, then another process runs a step.
    await new Promise((r) => setTimeout(r, 300));
    const at = new Date();
    await other.saveStep(op.id, {
      step: 'branch',
      status: 'done',
      startedAt: at,
      completedAt: new Date(at.getTime() + 1_200),
      detail: 'created branch "live1"',
      error: null,
    });
    await other.updateOperation(op.id, { status: 'running', currentStep: 'cluster' });
    for (const page of pages) {
      // (locators, not evaluated strings: the page's CSP allows no eval)
      await page
        .locator('main', { hasText: 'created branch "live1"' })
        .waitFor({ timeout: 10_000 });
      expect(await page.locator('#live').textContent()).toMatch(/^live1: /);
    }
    expect(navigations).toBe(0);
    await pages[0]!.screenshot({ path: path.join(ARTIFACTS, 'console-live.png'), fullPage: true });
  });
});

describe.each(['postgres', 'embedded'] as const)('the live event stream on %s', (backend) => {
  let db: TestDatabase | undefined;
  let rt: Runtime;
  let other: Store;
  let served: Awaited<ReturnType<typeof serveDashboard>>;
  let dashboard: ReturnType<typeof dashboardHandler>;
  let base: string;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-stream-'));
    if (backend === 'postgres') db = await createTestDatabase();
    const config = loadConfig(
      {
        ...(db ? { DATABASE_URL: db.url } : { KINDLER_DB: 'embedded' }),
        KINDLER_DATA_DIR: path.join(tmp, 'data'),
        BASE_DOMAIN: 'example.test',
      },
      tmp,
    );
    rt = await openRuntime(config);
    await rt.store.migrate();
    other = await openStore(config);
    dashboard = dashboardHandler(rt);
    served = await serveDashboard(dashboard);
    base = served.base;
  });
  afterAll(async () => {
    await served?.close();
    await other?.close();
    await rt?.close();
    if (backend === 'embedded') await removeEmbedded(path.join(tmp, 'data'));
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("streams another process's changes, only the environment asked for", async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/kindler/api/events?env=api1`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    await until(/kindler live events/);
    await other.insertEnvironment({ name: envName('elsewhere'), provider: 'k3d' });
    const env = await other.insertEnvironment({ name: envName('api1'), provider: 'k3d' });
    const op = await other.createOperation({ envName: env.name, kind: 'create', trigger });
    await other.updateOperation(op.id, { status: 'running', currentStep: 'branch' });
    await until(/"status":"running"/);
    expect(text).toContain(
      'event: environment\ndata: {"type":"environment","env":"api1","status":"creating"}',
    );
    expect(text).toContain(
      `event: operation\ndata: {"type":"operation","operation":${op.id},"env":"api1","kind":"create","status":"queued","step":null}`,
    );
    expect(text).toContain(
      `"type":"step","operation":${op.id},"env":"api1","step":"branch","status":"pending"`,
    );
    expect(text).not.toContain('elsewhere');
    controller.abort();
  });
});
