// The web console in headless Chromium, against a real PostgreSQL (yours, and the embedded
// default) and a GitHub stand-in that
// serves the OAuth web flow and /user (GitHub Enterprise style, on loopback): sign in with GitHub,
// create an environment and watch its steps tick live, open a step's log, stop and start it,
// delete it with the typed confirmation; a read-only user sees no controls and the server refuses
// their forged POST (403); a form without its CSRF token is refused. Each page is screenshotted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/domain/index.js';
import { HEALTH } from '../../src/consistency/health.js';
import { loadConfig } from '../../src/config/config.js';
import { authorityFor } from '../../src/github/authority.js';
import { PermissionCache } from '../../src/github/permissions.js';
import type { GitHubClient } from '../../src/github/types.js';
import { Worker } from '../../src/github/worker.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { githubUserLookup } from '../../src/web/principals.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { ARTIFACTS, launchChromium, serveDashboard } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { removeEmbedded } from '../support/embedded.js';
import { fakeSystems } from '../support/fake-steps.js';
import { ContractOctokit } from '../support/github-contract.js';
import { appPrivateKey } from '../support/github-fixtures.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';

const CONFIG = 'acme/cfg';

describe.each(['postgres', 'embedded'] as const)('the web console on %s', (backend) => {
  let db: TestDatabase | undefined;
  let gh: GitHubServer;
  let rt: Runtime;
  let worker: Worker;
  let served: Awaited<ReturnType<typeof serveDashboard>>;
  let dashboard: ReturnType<typeof dashboardHandler>;
  let base: string;
  let browser: Browser;
  let tmp: string;
  const shot = (page: Page, name: string) =>
    page.screenshot({
      path: path.join(ARTIFACTS, `console-${backend}-${name}.png`),
      fullPage: true,
    });

  /** A fresh browser signed in to GitHub as `login`, then to the console. */
  async function signedIn(login: string): Promise<Page> {
    gh.oauth.user = login;
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/kindler`);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.getByText(`signed in as ${login}`).waitFor();
    return page;
  }

  beforeAll(async () => {
    if (backend === 'postgres') db = await createTestDatabase();
    gh = await startGitHubServer({ appId: '4321', privateKey: appPrivateKey() });
    gh.permissions[`${CONFIG}:alice`] = 'write';
    gh.permissions[`${CONFIG}:rita`] = 'read';
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-console-'));
    const real = await openRuntime(
      loadConfig(
        {
          ...(db ? { DATABASE_URL: db.url } : { KINDLER_DB: 'embedded' }),
          KINDLER_DATA_DIR: path.join(tmp, 'data'),
          BASE_DOMAIN: 'example.test',
        },
        tmp,
      ),
    );
    await real.store.migrate();
    // The systems are in memory; each step takes a moment, so the page can be seen to tick.
    const systems = fakeSystems();
    systems.during = () => new Promise((r) => setTimeout(r, 250));
    rt = {
      ...real,
      // What `k3d kubeconfig get` would print (no cluster here).
      kubeconfigFor: async (env) =>
        `apiVersion: v1\nkind: Config\ncurrent-context: k3d-${env.name}\n`,
      handlers: systems.handlers,
      engine: new Engine({ store: real.store, handlers: systems.handlers, retryDelaysMs: [] }),
    };
    worker = new Worker(rt, { owner: 'console-test', concurrency: 2, pollMs: 100 });
    await worker.start();
    const api = `http://${gh.host}/api/v3`;
    const installation = new ContractOctokit({
      auth: gh.installationToken(),
      baseUrl: api,
      request: { retries: 0 },
    }) as unknown as GitHubClient;
    const permissions = new PermissionCache();
    dashboard = dashboardHandler(rt, {
      access: {
        githubLogin: githubUserLookup(api),
        decide: async (login, verb, name) =>
          (
            await authorityFor({ permissions, configRepo: CONFIG }, installation, {
              owner: 'acme',
              repo: 'cfg',
            })
          ).decide({ verb, envName: name, login }),
      },
      oauth: { clientId: gh.oauth.clientId, clientSecret: gh.oauth.clientSecret, apiBase: api },
      githubWeb: `http://${gh.host}`,
    });
    served = await serveDashboard(dashboard);
    base = served.base;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await worker?.stop();
    await rt?.close();
    await gh?.close();
    if (backend === 'embedded') await removeEmbedded(path.join(tmp, 'data'));
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('signs in with GitHub, creates, watches the steps live, reads a log, stops, starts and deletes', async () => {
    const page = await signedIn('alice');
    await shot(page, 'list');
    await page.getByLabel('Name').fill('web');
    await page.getByLabel('Provider').selectOption('kind');
    await page.getByLabel('Register in Portainer').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(`${base}/kindler/environments/web`);
    // From here the page changes only by itself: the steps tick without a navigation.
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.locator('main', { hasText: 'create #' }).waitFor();
    await page
      .locator('main', { hasText: 'haproxy ensured' })
      .or(page.locator('main li', { hasText: 'done haproxy' }))
      .first()
      .waitFor({ timeout: 15_000 });
    await page.locator('dd.s-ready').waitFor({ timeout: 15_000 });
    expect(navigations).toBe(0);
    expect(await page.locator('#live').textContent()).toMatch(/^web: /);
    const env = await rt.store.getEnvironment('web');
    expect(env).toMatchObject({ provider: 'kind', registerPortainer: false, status: 'ready' });
    const [created] = await rt.store.listOperations({ envName: env!.name });
    expect(created?.trigger).toMatchObject({ source: 'dashboard', actor: 'alice' });
    // A step's log, bounded and scrollable: what the branch step wrote, under it.
    await page.getByText('log of branch').first().click();
    await expect
      .poll(() => page.locator('pre.log').first().textContent())
      .toBe('branch ensured\nbranch: created');
    await shot(page, 'environment');

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('dd.s-stopped').waitFor({ timeout: 15_000 });
    await shot(page, 'stopped');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('dd.s-ready').waitFor({ timeout: 15_000 });
    // Extending is done at once and said at once, in the console's words.
    await page.getByLabel('by').fill('2h');
    await page.getByRole('button', { name: 'Extend' }).click();
    await page.locator('.notice[role="status"]').waitFor();
    const extended = (await rt.store.getEnvironment('web'))!.expiresAt!;
    expect(extended.getTime() - Date.now()).toBeGreaterThan(1.9 * 3.6e6);
    expect(await page.locator('.notice[role="status"]').textContent()).toContain(
      `“web” now expires ${extended.toISOString()}.`,
    );

    // Deleting asks for the name: a wrong one changes nothing and says so.
    await page.getByLabel('Type web to delete it').fill('wrong');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alert').getByText('type its name in the confirmation field').waitFor();
    expect(await rt.store.getEnvironment('web')).not.toBeNull();
    await page.getByLabel('Type web to delete it').fill('web');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${base}/kindler`);
    await expect.poll(() => rt.store.getEnvironment('web'), { timeout: 15_000 }).toBeNull();
  });

  it('changes settings from the edit form and rolls back from the history', async () => {
    const page = await signedIn('alice');
    await page.getByLabel('Name').fill('edit');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(`${base}/kindler/environments/edit`);
    await page.locator('dd.s-ready').waitFor({ timeout: 15_000 });
    await page.getByText('Change settings').click();
    await page.getByLabel('HAProxy route').selectOption('off');
    await page.getByRole('button', { name: 'Update' }).click();
    await page.waitForURL(`${base}/kindler/environments/edit`);
    await expect
      .poll(async () => (await rt.store.latestOperation('edit' as never))?.status, {
        timeout: 15_000,
      })
      .toBe('success');
    const updated = await rt.store.latestOperation('edit' as never);
    expect(updated).toMatchObject({ kind: 'update', trigger: { actor: 'alice' } });
    expect(updated!.steps.filter((s) => s.status === 'done').map((s) => s.step)).toEqual([
      'record',
      'haproxy',
    ]);
    expect(await rt.store.getEnvironment('edit')).toMatchObject({ haproxyRoute: false });
    // Another provider is refused unconfirmed, in the console's words.
    await page.reload();
    await page.getByText('Change settings').click();
    await page.getByLabel('Provider', { exact: true }).selectOption('kind');
    await page.getByRole('button', { name: 'Update' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(
      `changing the provider k3d → kind deletes "edit"'s cluster and creates it again`,
    );
    expect(await rt.store.getEnvironment('edit')).toMatchObject({ provider: 'k3d' });

    await page.getByText('History').click();
    await page.getByRole('button', { name: 'Roll back to 1' }).click();
    await page.waitForURL(`${base}/kindler/environments/edit`);
    await expect
      .poll(async () => (await rt.store.getEnvironment('edit'))?.haproxyRoute, { timeout: 15_000 })
      .toBe(true);
    const rolled = await rt.store.latestOperation('edit' as never);
    expect(rolled).toMatchObject({ kind: 'update', change: { rollbackTo: 1 } });
    await shot(page, 'rolled-back');
    // The later tests' lists start without it.
    await rt.store.deleteEnvironment('edit' as never);
  });

  it('a refused create says why in the console’s words, keeps what was typed, and the page is not the POST', async () => {
    const page = await signedIn('alice');
    await page.getByLabel('Name').fill('main');
    await page.getByLabel('Provider').selectOption('kind');
    await page.getByLabel('Lifetime').fill('3d');
    await page.getByLabel('Route through HAProxy').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const said = (await alert.textContent()) ?? '';
    expect(said).toContain('reserved');
    expect(said).not.toMatch(/Usage|`|\/env create/);
    // Redirected after the POST: a reload shows the list again and posts nothing.
    expect(page.url()).toBe(`${base}/kindler`);
    expect(await page.getByLabel('Name').inputValue()).toBe('main');
    expect(await page.getByLabel('Provider').inputValue()).toBe('kind');
    expect(await page.getByLabel('Lifetime').inputValue()).toBe('3d');
    expect(await page.getByLabel('Route through HAProxy').isChecked()).toBe(false);
    expect(await page.getByLabel('Register in Portainer').isChecked()).toBe(true);
    await page.reload();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByLabel('Name').inputValue()).toBe('');
    expect(await rt.store.getEnvironment('main')).toBeNull();
  });

  it('searches and filters the list by name, status and health; a row stops from the list', async () => {
    for (const name of ['alpha', 'beta']) {
      const row = await rt.store.insertEnvironment({ name: envName(name), provider: 'k3d' });
      await rt.store.updateEnvironment(row.name, { status: 'ready' });
    }
    const at = new Date().toISOString();
    const seen = (health: 'healthy' | 'degraded', reason: string) => ({
      health,
      reason,
      since: at,
      checkedAt: at,
      parts: [],
    });
    await rt.store.setState(HEALTH, {
      alpha: seen('degraded', 'argocd: whoami-alpha Synced/Degraded'),
      beta: seen('healthy', 'app: answered 200'),
    });
    const page = await signedIn('alice');
    const names = () =>
      page
        .locator('table >> nth=0 >> tbody th')
        .evaluateAll((ths) =>
          ths.map((th) => (th as unknown as { innerText: string }).innerText.trim()),
        );
    const health = (name: string) =>
      page.locator('table >> nth=0 >> tbody tr', { hasText: name }).locator('td').nth(2);
    await expect.poll(names).toEqual(['alpha', 'beta']);
    expect(await health('alpha').innerText()).toBe('degraded');
    expect(await health('alpha').getAttribute('title')).toBe(
      'argocd: whoami-alpha Synced/Degraded',
    );
    expect(await health('beta').innerText()).toBe('healthy');
    await page.getByLabel('Search').fill('alp');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(`${base}/kindler?q=alp&status=&health=&label=`);
    await expect.poll(names).toEqual(['alpha']);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Health').selectOption('healthy');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/health=healthy/);
    await expect.poll(names).toEqual(['beta']);
    await page.getByLabel('Status').selectOption('stopped');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No environment matches.').waitFor();
    await shot(page, 'filtered');
    // By labels: none of these carries team=a; the filter is kept in the form.
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Health').selectOption('');
    await page.getByLabel('Labels').fill('team=a');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/label=team%3Da/);
    await page.getByText('No environment matches.').waitFor();
    expect(await page.getByLabel('Labels').inputValue()).toBe('team=a');
    // The cluster's kubeconfig: offered and sent to who may change it, refused to a reader.
    await page.goto(`${base}/kindler/environments/alpha`);
    await page.getByText('kubectl --context k3d-alpha get pods -A').waitFor();
    const yaml = await page.request.get(`${base}/kindler/environments/alpha/kubeconfig`);
    expect(yaml.status()).toBe(200);
    expect(yaml.headers()['content-disposition']).toBe(
      'attachment; filename="k3d-alpha.kubeconfig"',
    );
    expect(yaml.headers()['cache-control']).toBe('no-store');
    expect(await yaml.text()).toContain('current-context: k3d-alpha');
    const reader = await signedIn('rita');
    await reader.goto(`${base}/kindler/environments/alpha`);
    expect(await reader.getByText('download its kubeconfig').count()).toBe(0);
    const refused = await reader.request.get(`${base}/kindler/environments/alpha/kubeconfig`);
    expect(refused.status()).toBe(403);
    expect(await refused.text()).not.toContain('current-context');
    // A row's own action: Stop, from the list.
    await page.goto(`${base}/kindler`);
    await page
      .locator('table >> nth=0 >> tbody tr', { hasText: 'beta' })
      .getByRole('button', { name: 'Stop' })
      .click();
    await expect
      .poll(async () => (await rt.store.getEnvironment(envName('beta')))?.status, {
        timeout: 15_000,
      })
      .toBe('stopped');
    for (const name of ['alpha', 'beta']) await rt.store.deleteEnvironment(envName(name));
  });

  it('a read-only user sees no controls, and the server refuses their forged POST', async () => {
    await rt.store.insertEnvironment({ name: 'ro' as never, provider: 'k3d' });
    await rt.store.updateEnvironment('ro' as never, { status: 'ready' });
    const page = await signedIn('rita');
    expect(await page.getByRole('button', { name: 'Create' }).count()).toBe(0);
    await page.goto(`${base}/kindler/environments/ro`);
    await page.getByRole('heading', { name: 'ro' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    expect(await page.getByText('Change settings').count()).toBe(0);
    await shot(page, 'read-only');
    // The sign-out form carries her CSRF token: a forged stop with it is still refused.
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value');
    const forged = await page.request.post(`${base}/kindler/environments/ro/stop`, {
      form: { csrf: csrf! },
      maxRedirects: 0,
    });
    // Answered as every form is: back to its page, which says why once.
    expect(forged.status()).toBe(303);
    expect(forged.headers().location).toBe('/kindler/environments/ro');
    await page.goto(`${base}/kindler/environments/ro`);
    expect(await page.getByRole('alert').textContent()).toContain(
      '“/env stop ro” needs write permission on this repository (rule "default write"); you have read.',
    );
    expect(await rt.store.latestOperation('ro' as never)).toBeNull();
  });

  it('a form without its CSRF token is refused; sign-out ends the session', async () => {
    const page = await signedIn('alice');
    const bare = await page.request.post(`${base}/kindler/environments/ro/stop`, {
      form: { nothing: 'here' },
    });
    expect(bare.status()).toBe(403);
    expect(await bare.text()).toContain('This form has no valid CSRF token');
    const api = await page.request.post(`${base}/kindler/api/environments/ro/stop`);
    expect(api.status()).toBe(403);
    // A malformed name in the path is refused as bad input, with the token or without it.
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value');
    const malformed = await page.request.post(`${base}/kindler/environments/%ZZ/delete`, {
      form: { csrf: csrf!, confirm: '%ZZ' },
    });
    expect(malformed.url()).toBe(`${base}/kindler`);
    expect(await malformed.text()).toContain(
      'The name in the address is not valid percent-encoding; nothing was done.',
    );
    expect(await rt.store.latestOperation('ro' as never)).toBeNull();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
    const after = await page.request.post(`${base}/kindler/api/environments/ro/stop`);
    expect(after.status()).toBe(401);
  });

  it('scripts use the API with a GitHub user token: the same rules, the same records', async () => {
    gh.userTokens.set('ghp_alice_script', 'alice');
    const res = await fetch(`${base}/kindler/api/environments/ro/stop`, {
      method: 'POST',
      headers: { authorization: 'Bearer ghp_alice_script' },
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as any).operation).toMatchObject({
      kind: 'stop',
      trigger: { source: 'dashboard', actor: 'alice' },
    });
  });
});
