// `kindler bootstrap` from an empty data dir, as a new user runs it, on the stand-ins: k3d and
// docker the executable fakes, the devops cluster's API the Kubernetes stand-in keeping the
// apiserver's rules (Argo CD's CRDs before their resources, controllers that set status later,
// argocd-server writing its admin Secret), Portainer a stand-in of its API. Then `kindler create`
// registers with all of it, and the repository Secret Argo CD gets is the built-in Git service,
// which answers `git ls-remote` with that Secret's credentials.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliChild } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { startPortainerServer, type PortainerServer } from '../support/portainer-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

let fakes: Fakes;
let kube: KubeApi;
let portainer: PortainerServer;
let db: TestDatabase;
let tmp: string;
let env: Record<string, string>;
let port: number;
let gateway: http.Server;
let gatewayPort: number;
const timings: Record<string, number> = {};

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
/** The ApplicationSet the lifecycle keeps in the devops cluster. */
const appSet = () =>
  kube.get('k3d-devops', 'argoproj.io/v1alpha1', 'ApplicationSet', 'whoami', 'argocd') as any;

beforeAll(async () => {
  fakes = setupFakes();
  kube = await startKubeApi({ fakeClusters: true, strictCrds: true, controllerDelayMs: 50 });
  portainer = await startPortainerServer();
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bootstrap-'));
  port = await freePort();
  // The gateway container's stand-in on the port bootstrap gives it (the real haproxy-gw routes
  // real HTTP in test/exec/gateway-container.test.ts): dev's whoami answers through it.
  gatewayPort = await freePort();
  gateway = http.createServer((req, res) => {
    if (req.headers.host?.replace(/:\d+$/, '') === 'whoami.dev.boot.test')
      res.end('Hostname: whoami-dev');
    else res.writeHead(404).end('404 Not Found - Domain not configured in HAProxy');
  });
  await new Promise<void>((r) => gateway.listen(gatewayPort, '127.0.0.1', r));
  const dataDir = path.join(tmp, 'data');
  // k3d makes the cluster's network; its gateway (what host.k3d.internal names) is a loopback
  // address here, so the Git service's own listener can be reached by this test.
  fs.writeFileSync(
    path.join(fakes.stateDir, 'state.json'),
    JSON.stringify({
      k3d: {},
      kind: {},
      networks: { 'k3d-devops': { subnet: '10.200.0.0/16', gateway: '127.0.0.9' } },
    }),
  );
  env = {
    ...fakes.env,
    KINDLER_FAKE_KUBE_API: kube.url,
    // The gateway container's filesystem as the fake docker exec sees it.
    KINDLER_FAKE_CONTAINERS: JSON.stringify({ 'haproxy-gw': { root: tmp, hosts: {} } }),
    DATABASE_URL: db.url,
    KINDLER_DATA_DIR: dataDir,
    KINDLER_PORTAINER_PORT: String(portainer.port),
    BASE_DOMAIN: 'boot.test',
    PORT: String(port),
    HAPROXY_HTTP_PORT: String(gatewayPort),
    KINDLER_READY_TIMEOUT: '30',
    KINDLER_RETRY_DELAYS_MS: 'none',
    LOG_LEVEL: 'warn',
  };
}, 60_000);
afterAll(async () => {
  await new Promise((r) => gateway?.close(r));
  await portainer?.close();
  await kube?.close();
  await db?.drop();
  fakes?.cleanup();
  if (Object.keys(timings).length) {
    const results = path.resolve(import.meta.dirname, '../../test-results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(
      path.join(results, 'bootstrap-timings.json'),
      JSON.stringify(timings, null, 2),
    );
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('kindler bootstrap on the stand-ins', () => {
  it('builds the devops cluster, Argo CD, the gateway and Portainer from an empty data dir', async () => {
    const started = Date.now();
    const run = await cliChild(['bootstrap'], env);
    timings.firstRunMs = Date.now() - started;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n');
    for (const piece of ['devops cluster', 'Argo CD', 'HAProxy gateway', 'Portainer'])
      expect(lines.some((l) => l.startsWith(`✓ ${piece} — `))).toBe(true);
    for (const l of lines.filter((l) => /^✓ /.test(l))) {
      const m = /^✓ (.+?) — .*\((\d+\.\d) s\)$/.exec(l);
      if (m) timings[m[1]!] = Number(m[2]) * 1000;
    }
    // The devops cluster, its kubeconfig where the bot reads it.
    expect(Object.keys(fakes.state().k3d)).toEqual(['devops']);
    const settings = fs.readFileSync(path.join(env.KINDLER_DATA_DIR!, 'devops.env'), 'utf8');
    expect(fs.statSync(path.join(env.KINDLER_DATA_DIR!, 'devops.env')).mode & 0o777).toBe(0o600);
    expect(settings).toContain('DEVOPS_CONTEXT="k3d-devops"');
    expect(settings).toContain(`DEVOPS_KUBECONFIG="${env.KINDLER_DATA_DIR}/devops.kubeconfig"`);
    expect(settings).toContain(`HAPROXY_CONFIG="${env.KINDLER_DATA_DIR}/haproxy/haproxy.cfg"`);
    expect(settings).toContain('HAPROXY_RELOAD_COMMAND="docker kill -s HUP haproxy-gw"');
    expect(settings).toContain(`HAPROXY_HTTP_PORT="${gatewayPort}"`);
    expect(settings).toContain(`PORTAINER_URL="${portainer.url}"`);
    expect(settings).toContain(`KINDLER_GIT_SERVICE_LISTEN="127.0.0.9:${port}"`);
    expect(settings).toMatch(/PORTAINER_API_KEY="ptr_/);
    // Argo CD: its CRDs established before anything of theirs; its workloads available.
    const crds = kube.list('k3d-devops', 'CustomResourceDefinition').map((c) => c.metadata.name);
    expect(crds.sort()).toEqual([
      'applications.argoproj.io',
      'applicationsets.argoproj.io',
      'appprojects.argoproj.io',
    ]);
    const server = kube.get('k3d-devops', 'apps/v1', 'Deployment', 'argocd-server', 'argocd');
    expect(server?.status).toMatchObject({ availableReplicas: 1 });
    // The ApplicationSet the lifecycle keeps, over the built-in Git service.
    expect(appSet().spec.template.spec.source.repoURL).toBe(
      `http://host.k3d.internal:${port}/kindler/git/environments.git`,
    );
    // Containers: the gateway on the host network with its config; Portainer initialised.
    const containers = (fakes.state() as any).containers;
    expect(containers['haproxy-gw']).toMatchObject({ image: 'haproxy:2.8', network: 'host' });
    expect(containers.portainer).toMatchObject({ image: 'portainer/portainer-ce:2.21.5' });
    expect(portainer.admin?.username).toBe('admin');
    expect(portainer.apiKeys.size).toBe(1);
    // Nothing secret was printed.
    expect(run.stdout + run.stderr).not.toContain(portainer.admin!.password);
    expect(run.stdout + run.stderr).not.toContain([...portainer.apiKeys][0]);
  }, 120_000);

  it('a second run changes nothing; --check names every piece and exits 0', async () => {
    const before = JSON.stringify(kube.list('k3d-devops'));
    fakes.clearArgv();
    const started = Date.now();
    const again = await cliChild(['bootstrap'], env);
    timings.secondRunMs = Date.now() - started;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split('\n').filter((l) => l.startsWith('= '))).toHaveLength(4);
    expect(JSON.stringify(kube.list('k3d-devops'))).toBe(before);
    const made = fakes.argv().filter((a) => /^(k3d cluster create|docker run)/.test(a.join(' ')));
    expect(made).toEqual([]);
    expect(portainer.apiKeys.size).toBe(1);
    const check = await cliChild(['bootstrap', '--check'], env);
    expect(check.code).toBe(0);
    for (const piece of ['devops cluster', 'Argo CD', 'HAProxy gateway', 'Portainer'])
      expect(check.stdout).toContain(`✓ ${piece}: `);
  }, 120_000);

  it('--check exits non-zero naming what is down', async () => {
    const state = JSON.parse(fs.readFileSync(path.join(fakes.stateDir, 'state.json'), 'utf8'));
    state.containers['haproxy-gw'].running = false;
    fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
    try {
      const check = await cliChild(['bootstrap', '--check'], env);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain('✗ HAProxy gateway: container haproxy-gw is stopped');
      expect(check.stderr).toContain('Down: HAProxy gateway. Run kindler bootstrap.');
    } finally {
      state.containers['haproxy-gw'].running = true;
      fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
    }
  });

  it('then `kindler create dev` registers everywhere, and Argo CD can clone the branch from the bot', async () => {
    const started = Date.now();
    const create = await cliChild(['create', 'dev'], env);
    timings.createMs = Date.now() - started;
    expect(create.code, `${create.stdout}\n${create.stderr}`).toBe(0);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(
      `select s.step, s.status from operation_steps s join operations o on o.id = s.operation_id
       where o.cluster_name = 'dev' and o.operation = 'create' order by s.position`,
    );
    await client.end();
    // All seven steps ran, none skipped: ready saw Argo CD's Application Synced and Healthy and
    // whoami answer through the gateway.
    expect(rows).toEqual(
      ['record', 'branch', 'cluster', 'portainer', 'argocd', 'haproxy', 'ready'].map((step) => ({
        step,
        status: 'done',
      })),
    );
    expect(kube.get('k3d-devops', 'v1', 'Secret', 'cluster-dev', 'argocd')).not.toBeNull();
    const app = kube.get(
      'k3d-devops',
      'argoproj.io/v1alpha1',
      'Application',
      'whoami-dev',
      'argocd',
    ) as any;
    expect(app.spec).toMatchObject({ project: 'kindler-dev', source: { targetRevision: 'dev' } });
    expect(appSet().spec.generators[0].list.elements.map((e: any) => e.env)).toEqual(['dev']);
    expect(portainer.endpoints.map((e) => e.Name)).toEqual(['dev']);
    const gateway = fs.readFileSync(
      path.join(env.KINDLER_DATA_DIR!, 'haproxy/haproxy.cfg'),
      'utf8',
    );
    expect(gateway).toContain('backend be_dev');
    expect((fakes.state() as any).containers['haproxy-gw'].signals).toContain('HUP');

    // The repository Secret names the built-in Git service; with its credentials, git answers.
    const repo = kube.get('k3d-devops', 'v1', 'Secret', 'external-git-whoami', 'argocd') as any;
    const url = b64(repo.data.url);
    expect(url).toBe(`http://host.k3d.internal:${port}/kindler/git/environments.git`);
    let bot: ServerProcess | null = null;
    try {
      bot = await startServerProcess({ ...env, HOST: '127.0.0.1', PORT: String(port) });
      // host.k3d.internal is the network's gateway: the Git service listens there, alone (the bot
      // itself stays on HOST=127.0.0.1).
      const local = new URL(url.replace('host.k3d.internal', '127.0.0.9'));
      expect((await fetch(`http://127.0.0.9:${port}/kindler`)).status).toBe(404);
      local.username = b64(repo.data.username);
      local.password = b64(repo.data.password);
      const listed = await new Promise<string>((resolve, reject) =>
        execFile(
          'git',
          ['ls-remote', '--heads', local.toString()],
          { env: { PATH: process.env.PATH, HOME: tmp, GIT_TERMINAL_PROMPT: '0' } },
          (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
        ),
      );
      expect(listed).toMatch(/refs\/heads\/dev$/m);
    } finally {
      await bot?.stop();
    }
  }, 120_000);

  it('kindler teardown lists what it would remove, and with --confirm removes that and nothing else', async () => {
    const preview = await cliChild(['teardown'], env);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('kindler teardown --confirm would remove');
    expect(Object.keys(fakes.state().k3d).sort()).toEqual(['dev', 'devops']);
    const done = await cliChild(['teardown', '--confirm'], env);
    expect(done.code, done.stderr).toBe(0);
    const state = fakes.state() as any;
    // The devops side is gone; dev's cluster is an environment's, not bootstrap's.
    expect(Object.keys(state.k3d)).toEqual(['dev']);
    expect(state.containers).toEqual({});
    expect(state.removedVolumes).toEqual(['kindler-portainer-data']);
    expect(fs.existsSync(path.join(env.KINDLER_DATA_DIR!, 'devops.env'))).toBe(false);
    const check = await cliChild(['bootstrap', '--check'], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('✗ devops cluster: no k3d cluster devops');
  }, 60_000);
});
