// `ready` means reachable: the probe asks for whoami.<env> through the real haproxy, which routes
// real HTTP to a local server standing in for the cluster's ingress (it answers the environment's
// host, 404 to others, as Traefik does); with Argo CD it also waits for Synced and Healthy.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Failure } from '../../src/domain/index.js';
import { HaproxyGateway } from '../../src/registrars/haproxy-gateway.js';
import { KubeClient } from '../../src/registrars/kube.js';
import { ReadinessProbe, type ReadySettings } from '../../src/registrars/readiness.js';
import { makeEnv } from '../support/env.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { rejection } from '../support/rejection.js';

const freePort = async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
};

let dir: string;
let ingress: http.Server;
let ingressPort: number;
let gatewayPort: number;
let haproxy: ChildProcess;
let haproxyStderr = '';
let haproxyExit: string | null = null;
let kube: KubeApi;
const ctx = { signal: new AbortController().signal, log: () => undefined };

/** Whether the gateway answers dev's host with dev's page (within 5 s, while haproxy runs). */
async function routesDev(): Promise<boolean> {
  for (let i = 0; i < 100 && haproxyExit === null; i++) {
    const body = await new Promise<string | null>((resolve) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: gatewayPort,
          path: '/',
          headers: { host: 'whoami.dev.example.test' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? text : null));
        },
      );
      req.on('error', () => resolve(null));
    });
    if (body === 'Hostname: whoami-dev\n') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-ready-'));
  ingress = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0];
    if (host === 'whoami.dev.example.test') res.writeHead(200).end('Hostname: whoami-dev\n');
    else res.writeHead(404).end('404 page not found\n');
  });
  await new Promise<void>((r) => ingress.listen(0, '127.0.0.1', r));
  ingressPort = (ingress.address() as net.AddressInfo).port;
  // The gateway binds its port alone (`noreuseport`: no other process can share it, as it could
  // by SO_REUSEPORT), and is ours once it routes dev's host; a port taken meanwhile is another.
  for (let attempt = 1; ; attempt++) {
    gatewayPort = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      fs
        .readFileSync(path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'), 'utf8')
        .replace('global\n', 'global\n    noreuseport\n')
        .replace('bind *:80', `bind 127.0.0.1:${gatewayPort}`),
    );
    await new HaproxyGateway({
      configPath: cfg,
      haproxyBin: 'haproxy',
      timeoutMs: 20_000,
      backendHost: '127.0.0.1',
    }).sync([makeEnv('dev', { httpPort: ingressPort })]);
    haproxyStderr = '';
    haproxyExit = null;
    haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    haproxy.stderr!.on('data', (d: Buffer) => (haproxyStderr += d.toString()));
    haproxy.on('exit', (code, signal) => (haproxyExit = `${code ?? signal}`));
    if (await routesDev()) break;
    haproxy.kill();
    if (attempt === 3) throw new Error(`haproxy did not start: ${haproxyStderr}`);
  }
  kube = await startKubeApi();
  kube.addCluster('k3d-devops', 'devops-token', ['argocd']);
});
// A gateway that went away mid-file would read as a probe that fails: say so instead.
afterEach(() => expect(haproxyExit, `haproxy exited; it said: ${haproxyStderr}`).toBeNull());
afterAll(async () => {
  haproxy?.kill();
  await new Promise((r) => ingress.close(r));
  await kube.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const probe = (settings: Partial<ReadySettings>) =>
  new ReadinessProbe({
    timeoutS: 5,
    intervalMs: 100,
    baseDomain: 'example.test',
    gateway: { host: '127.0.0.1', port: gatewayPort },
    clusterHost: '127.0.0.1',
    argo: null,
    ...settings,
  });
const application = (status?: object) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'whoami-dev', namespace: 'argocd' },
  spec: {
    project: 'default',
    source: {
      repoURL: 'https://git.example.test/org/gitops.git',
      path: 'deploy',
      targetRevision: 'dev',
    },
    destination: { name: 'dev', namespace: 'whoami' },
  },
  ...(status ? { status } : {}),
});

describe('the ready probe', () => {
  it('is ready when whoami.<env> answers through the gateway', async () => {
    const env = makeEnv('dev', { httpPort: ingressPort });
    expect(await probe({}).wait(env, ctx)).toBe(
      `reachable: GET http://127.0.0.1:${gatewayPort}/ (Host whoami.dev.example.test) answered 200`,
    );
  });

  it("without a route it asks the cluster's published port; without Argo CD any HTTP answer will do", async () => {
    const env = makeEnv('web', { httpPort: ingressPort, haproxyRoute: false });
    expect(await probe({}).wait(env, ctx)).toBe(
      `reachable: GET http://127.0.0.1:${ingressPort}/ (Host whoami.web.example.test) answered 404`,
    );
  });

  it('a closed port is not ready: the timeout fails the step with what it saw last', async () => {
    const closed = await freePort();
    const env = makeEnv('dev', { httpPort: closed, haproxyRoute: false });
    const error = await rejection(probe({ timeoutS: 1 }).wait(env, ctx));
    expect(error).toBeInstanceOf(Failure);
    expect(error.message).toBe(
      `"dev" did not become reachable within 1 s; last seen: GET http://127.0.0.1:${closed}/ (Host whoami.dev.example.test): ECONNREFUSED`,
    );
  });

  it('with Argo CD it waits for the Application to be Synced and Healthy, and for a 2xx', async () => {
    const argo = {
      devops: () => KubeClient.fromYaml(kube.kubeconfig('k3d-devops')),
      namespace: 'argocd',
    };
    const env = makeEnv('dev', { httpPort: ingressPort });
    kube.put(
      'k3d-devops',
      application({ sync: { status: 'OutOfSync' }, health: { status: 'Progressing' } }),
    );
    setTimeout(
      () =>
        kube.put(
          'k3d-devops',
          application({ sync: { status: 'Synced' }, health: { status: 'Healthy' } }),
        ),
      400,
    );
    expect(await probe({ argo }).wait(env, ctx)).toBe(
      `reachable: GET http://127.0.0.1:${gatewayPort}/ (Host whoami.dev.example.test) answered 200; Application whoami-dev Synced/Healthy`,
    );
    // Healthy, but the entry answers 404 (the route or the ingress is wrong): not ready.
    const other = makeEnv('dev', {
      httpPort: ingressPort,
      haproxyRoute: false,
      name: 'dev' as never,
    });
    const wrongHost = new ReadinessProbe({
      timeoutS: 1,
      intervalMs: 100,
      baseDomain: 'elsewhere.test',
      gateway: null,
      clusterHost: '127.0.0.1',
      argo,
    });
    const error = await rejection(wrongHost.wait(other, ctx));
    expect(error.message).toBe(
      `"dev" did not become reachable within 1 s; last seen: GET http://127.0.0.1:${ingressPort}/ (Host whoami.dev.elsewhere.test) answered 404; Application whoami-dev Synced/Healthy`,
    );
  });

  it('a kept-alive connection closed as it is reused is not an answer: the GET goes again on a new one', async () => {
    // Each connection answers its first request and is reset on its second, as a server does
    // that closes an idle connection just as the client sends on it.
    const server = net.createServer((socket) => {
      let requests = 0;
      socket.on('data', (chunk) => {
        if (!chunk.includes('\r\n\r\n')) return;
        if (++requests === 1)
          socket.write(
            'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n',
          );
        else socket.resetAndDestroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const env = makeEnv('web', { httpPort: port, haproxyRoute: false });
    const answered = `GET http://127.0.0.1:${port}/ (Host whoami.web.example.test) answered 200`;
    try {
      expect((await probe({}).probeOnce(env, ctx.signal)).text).toBe(answered);
      expect((await probe({}).probeOnce(env, ctx.signal)).text).toBe(answered);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('KINDLER_READY_TIMEOUT=0 skips the probe', async () => {
    expect(await probe({ timeoutS: 0 }).wait(makeEnv('dev'), ctx)).toBe(
      'environment ready (probe skipped: KINDLER_READY_TIMEOUT=0)',
    );
  });
});
