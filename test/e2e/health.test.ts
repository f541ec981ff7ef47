// Health per environment, read from the stand-ins as the systems answer: Argo CD's Application
// (whoami-<env>) in the devops cluster, Portainer's Edge endpoint with its last check-in, and the
// app answering at the environment's entry. Each turn of a part turns the environment, and it is
// seen the same in `kindler status --json` and `kindler list`, /metrics, the console and its API.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { observeHealth } from '../../src/consistency/health.js';
import { contextOf, perform } from '../../src/actions/index.js';
import type { SingleCommand } from '../../src/commands/verbs.js';
import { envName } from '../../src/domain/index.js';
import { commentAnswer } from '../../src/github/answers.js';
import { WEBHOOK_EVENTS } from '../../src/github/app.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { Metrics } from '../../src/server/metrics.js';
import { Notifier } from '../../src/server/notifier.js';
import { monitorPass } from '../../src/github/monitor.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { startPortainerServer, type PortainerServer } from '../support/portainer-server.js';

const KEY = 'ptr_HEALTHKEY0123456789abcdef';

describe('environment health', () => {
  let tmp: string;
  let db: TestDatabase;
  let kube: KubeApi;
  let portainer: PortainerServer;
  let app: http.Server;
  let appUp = true;
  let env: Record<string, string>;
  let rt: Runtime;
  let console: http.Server;
  let base: string;
  let metrics: Metrics;
  // The alerts' receiver: answers 500 to the first POST, 200 after.
  let receiver: http.Server;
  const received: { status: number; body: Record<string, unknown> }[] = [];

  const application = (health: string, sync = 'Synced') =>
    kube.put('k3d-devops', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'whoami-web', namespace: 'argocd' },
      spec: {
        project: 'env-web',
        source: {
          repoURL: 'http://git.health.test/gitops.git',
          targetRevision: 'web',
          path: 'deploy',
        },
        destination: { server: 'https://k3d-web-serverlb:6443', namespace: 'whoami' },
      },
      status: { sync: { status: sync }, health: { status: health } },
    });
  const checkIn = (secondsAgo: number) => {
    portainer.endpoints[0]!.LastCheckInDate = Math.round(Date.now() / 1000) - secondsAgo;
  };
  const status = async () =>
    JSON.parse((await cliInProcess(['status', 'web', '--json'], env)).stdout) as {
      health: {
        health: string;
        reason: string;
        since: string;
        parts: { system: string; state: string }[];
      };
    };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-health-'));
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
    kube = await startKubeApi();
    kube.addCluster('k3d-devops', 'devops-token-0123456789', ['argocd']);
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
    portainer = await startPortainerServer();
    portainer.apiKeys.add(KEY);
    // The app at the environment's entry (its published http port): 200 while up, else 503.
    app = http.createServer((_req, res) => {
      res.writeHead(appUp ? 200 : 503);
      res.end(appUp ? 'Hostname: whoami' : 'down');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const port = (app.address() as AddressInfo).port;
    receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const status = received.length === 0 ? 500 : 200;
        received.push({ status, body: JSON.parse(raw) as Record<string, unknown> });
        res.writeHead(status);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase();
    env = {
      KINDLER_NOTIFY_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/T0/B0/secret-path`,
      KINDLER_PUBLIC_URL: 'https://kindler.health.test',
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'health.test',
      DEVOPS_CONTEXT: 'k3d-devops',
      KUBECONFIG: path.join(tmp, 'kubeconfig'),
      PORTAINER_URL: portainer.url,
      PORTAINER_API_KEY: KEY,
      KINDLER_HTTP_PORTS: `${port}-${port}`,
      HAPROXY_BACKEND_HOST: '127.0.0.1',
      KINDLER_READY_TIMEOUT: '5',
    };
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    await rt.store.migrate();
    const row = await rt.store.insertEnvironment({ name: envName('web'), provider: 'k3d' });
    await rt.store.updateEnvironment(row.name, { status: 'ready' });
    // The Edge environment as the Portainer step makes it.
    const form = new URLSearchParams({
      Name: 'web',
      EndpointCreationType: '4',
      URL: portainer.url.replace('127.0.0.1', 'portainer.health.test'),
      EdgeCheckinInterval: '5',
    });
    const made = await fetch(`${portainer.url}/api/endpoints`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(made.status).toBe(200);
    metrics = new Metrics(rt, { webhookEvents: WEBHOOK_EVENTS });
    console = await startHttpServer([dashboardHandler(rt, { metrics })], '127.0.0.1', 0);
    base = `http://127.0.0.1:${(console.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => console?.close(r));
    await new Promise((r) => app?.close(r));
    await new Promise((r) => receiver?.close(r));
    await rt?.close();
    await portainer?.close();
    await kube?.close();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is healthy when Argo CD, the Edge agent and the app all say so, each part with its words', async () => {
    application('Healthy');
    checkIn(2);
    const { changes } = await observeHealth(rt);
    expect(changes).toEqual([
      { name: 'web', from: null, to: 'healthy', reason: expect.any(String) },
    ]);
    const { health } = await status();
    expect(health.health).toBe('healthy');
    expect(health.parts).toEqual([
      expect.objectContaining({
        system: 'argocd',
        state: 'healthy',
        detail: 'whoami-web Synced/Healthy',
      }),
      expect.objectContaining({ system: 'portainer', state: 'healthy' }),
      expect.objectContaining({ system: 'app', state: 'healthy', latencyMs: expect.any(Number) }),
    ]);
  });

  it('turns degraded when the Application is Degraded, seen the same on every surface, once', async () => {
    const before = (await status()).health.since;
    application('Degraded');
    const { changes } = await observeHealth(rt);
    expect(changes).toEqual([
      {
        name: 'web',
        from: 'healthy',
        to: 'degraded',
        reason: 'argocd: whoami-web Synced/Degraded',
      },
    ]);
    // A second look changes nothing: the change is told once, `since` kept.
    expect((await observeHealth(rt)).changes).toEqual([]);
    const { health } = await status();
    expect(health).toMatchObject({
      health: 'degraded',
      reason: 'argocd: whoami-web Synced/Degraded',
    });
    expect(health.since > before).toBe(true);
    const list = await cliInProcess(['list'], env);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+PROVIDER\s+STATUS\s+HEALTH\s+HTTP/);
    expect(list.stdout.split('\n')[1]).toMatch(/^web\s+k3d\s+ready\s+degraded\s/);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('kindler_environment_health{env="web",health="degraded"} 1');
    expect(text).toContain('kindler_environment_health{env="web",health="healthy"} 0');
    expect(text).toContain('kindler_environment_health{env="web",health="progressing"} 0');
    expect(text).toContain('kindler_environment_health{env="web",health="unknown"} 0');
    const api = (await (await fetch(`${base}/kindler/api/environments/web`)).json()) as {
      environment: { health: { health: string } };
    };
    expect(api.environment.health.health).toBe('degraded');
    const page = await (await fetch(`${base}/kindler`)).text();
    expect(page).toMatch(
      /<td class="h-degraded" title="argocd: whoami-web Synced\/Degraded">\s*degraded\s*<\/td>/,
    );
    const detail = await (await fetch(`${base}/kindler/environments/web`)).text();
    expect(detail).toContain('argocd: degraded — whoami-web Synced/Degraded');
    // `/env status web` and `/env list`, through the same actions.
    const trigger = {
      source: 'issue_comment',
      actor: 'a',
      url: null,
      repo: null,
      issueNumber: null,
      headSha: null,
    } as const;
    const said = async (command: SingleCommand) =>
      commentAnswer(await perform(command, contextOf(rt, trigger)), 'asked', rt.urls);
    expect(await said({ verb: 'status', name: envName('web') })).toEqual({
      reply: expect.stringContaining(
        `**Health:** degraded since ${health.since} — argocd: whoami-web Synced/Degraded`,
      ),
    });
    expect(await said({ verb: 'list' })).toEqual({
      reply: expect.stringMatching(/^\| web \| k3d \| ready \| degraded \| /m),
    });
  });

  it('turns degraded when the Edge agent stops checking in, and when the app stops answering', async () => {
    application('Healthy');
    checkIn(600);
    await observeHealth(rt);
    expect((await status()).health.reason).toBe(
      'portainer: agent last checked in 600 s ago (every 5 s expected)',
    );
    checkIn(1);
    appUp = false;
    await observeHealth(rt);
    const { health } = await status();
    expect(health.health).toBe('degraded');
    expect(health.reason).toMatch(
      /^app: GET http:\/\/127\.0\.0\.1:\d+\/ \(Host whoami\.web\.health\.test\) answered 503$/,
    );
    appUp = true;
    expect((await observeHealth(rt)).changes).toEqual([
      { name: 'web', from: 'degraded', to: 'healthy', reason: expect.any(String) },
    ]);
  });

  it('alerts once when an environment turns degraded, delivered again after the receiver failed', async () => {
    application('Healthy');
    checkIn(1);
    await monitorPass({ rt });
    application('Degraded');
    await monitorPass({ rt });
    await monitorPass({ rt }); // seen again: no second alert
    const notifier = new Notifier(rt.store, rt.config.KINDLER_NOTIFY_URL!, { redact: (t) => t });
    expect(await notifier.pass()).toBe(0); // answered 500: kept
    expect(await rt.store.notifications.pending()).toMatchObject({ count: 1 });
    expect(await notifier.pass()).toBe(0); // not due yet (5 s later)
    await new Promise((r) => setTimeout(r, 5_200));
    expect(await notifier.pass()).toBe(1);
    expect(await notifier.pass()).toBe(0);
    expect(received.map((r) => r.status)).toEqual([500, 200]);
    expect(received[1]!.body).toEqual(received[0]!.body);
    expect(received[1]!.body).toMatchObject({
      event: 'degraded',
      environment: 'web',
      what: 'web turned degraded (was healthy): argocd: whoami-web Synced/Degraded',
      // The check also finds its branch missing (made by hand here): its fix is the one given.
      fix: 'kindler sync web',
      links: { console: 'https://kindler.health.test/kindler/environments/web', issue: null },
      text:
        '⚠ kindler: web turned degraded (was healthy): argocd: whoami-web Synced/Degraded. ' +
        'Fix: `kindler sync web` — https://kindler.health.test/kindler/environments/web',
    });
    expect(await rt.store.notifications.pending()).toMatchObject({ count: 0 });
  }, 20_000);
});
