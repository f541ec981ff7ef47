// Create then delete from the CLI with every system configured: k3d/docker fakes, a real bare Git
// repository, real haproxy, strict nock for Portainer and both Kubernetes API servers — on real
// PostgreSQL and on the embedded PGlite default.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { cliInProcess } from '../support/cli.js';
import { removeEmbedded } from '../support/embedded.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';

const PORTAINER = 'https://portainer.example.test:9443';
const ARGO_REPO = 'https://git.example.test/org/gitops.git';
const EDGE_KEY = Buffer.from(
  'https://portainer.example.test:9443|portainer.example.test:8000|aa:bb|7',
)
  .toString('base64')
  .replace(/=+$/, '');

describe.each(['postgres', 'embedded', 'pglite'] as const)(
  'kindler create then delete on %s',
  (backend) => {
    let fakes: Fakes;
    let tmp: string;
    let db: TestDatabase | undefined;
    let env: Record<string, string>;
    let restore: () => void;
    let kube: KubeApi;

    beforeAll(async () => {
      kube = await startKubeApi({ fakeClusters: true, tokenDelayMs: 20 });
      kube.addCluster('k3d-devops', 'devops-token-0123456789', ['argocd']);
      fakes = setupFakes();
      fakes.env.KINDLER_FAKE_KUBE_API = kube.url;
      restore = fakes.apply();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-e2e-'));
      execFileSync('git', [
        'init',
        '--quiet',
        '--bare',
        '--initial-branch=main',
        path.join(tmp, 'gitops.git'),
      ]);
      fs.copyFileSync(
        path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
        path.join(tmp, 'haproxy.cfg'),
      );
      fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
      if (backend === 'postgres') db = await createTestDatabase();
      env = {
        ...fakes.env,
        ...(db ? { DATABASE_URL: db.url } : { KINDLER_DB: backend }),
        KINDLER_DATA_DIR: path.join(tmp, 'data'),
        GIT_REPO_URL: path.join(tmp, 'gitops.git'),
        BASE_DOMAIN: 'example.test',
        PORTAINER_URL: PORTAINER,
        PORTAINER_API_KEY: 'ptr_E2EKEY0123456789abcdef',
        PORTAINER_EDGE_URL: 'http://192.168.51.30:80',
        DEVOPS_CONTEXT: 'k3d-devops',
        KUBECONFIG: path.join(tmp, 'kubeconfig'),
        ARGOCD_REPO_URL: ARGO_REPO,
        HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
        HAPROXY_RELOAD_COMMAND: `touch ${path.join(tmp, 'reloaded')}`,
        KINDLER_RETRY_DELAYS_MS: 'none',
        USER: 'alice',
      };
      nock.disableNetConnect();
      nock.enableNetConnect('127.0.0.1');
    });
    afterAll(async () => {
      nock.cleanAll();
      nock.enableNetConnect();
      restore();
      fakes.cleanup();
      if (backend === 'embedded') await removeEmbedded(path.join(tmp, 'data'));
      fs.rmSync(tmp, { recursive: true, force: true });
      await db?.drop();
      await kube.close();
    });
    afterEach(() => expect(nock.pendingMocks()).toEqual([]));

    it('creates: row, branch, cluster, Portainer, Argo CD, route — every call asserted', async () => {
      const requests: string[] = [];
      const log = (scope: nock.Scope) =>
        scope.on('request', (req: { method: string; url: string }) => {
          const url = new URL(req.url);
          requests.push(`${req.method} ${url.pathname}${url.search}`);
        });
      log(
        nock(PORTAINER, { reqheaders: { 'x-api-key': 'ptr_E2EKEY0123456789abcdef' } })
          .get('/api/endpoints')
          .query({ name: 'dev', excludeSnapshots: 'true' })
          .reply(200, [])
          .post('/api/endpoints', {
            Name: 'dev',
            EndpointCreationType: '4',
            URL: 'http://192.168.51.30:80',
            GroupID: '1',
          })
          .reply(200, { Id: 7, Name: 'dev', EdgeKey: EDGE_KEY })
          .get('/api/endpoints/7')
          .reply(200, { Id: 7, Name: 'dev', EdgeKey: EDGE_KEY }),
      );
      // `/env create dev k3d`'s grammar: the provider as a second word.
      const result = await cliInProcess(['create', 'dev', 'k3d', '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code, result.stdout).toBe(0);
      const op = JSON.parse(result.stdout);
      expect(op).toMatchObject({
        envName: 'dev',
        kind: 'create',
        status: 'success',
        trigger: { source: 'cli', actor: 'alice', via: 'cli' },
      });
      // extend: a later expiry from now (dev had none), then pinned with never.
      const extended = await cliInProcess(['extend', 'dev', '24h', '--json'], env);
      expect(extended.code, extended.stderr).toBe(0);
      const until = Date.parse(JSON.parse(extended.stdout).environment.expiresAt);
      expect(until - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
      expect(until - Date.now()).toBeLessThan(24.1 * 3_600_000);
      const pinned = await cliInProcess(['extend', 'dev', 'never'], env);
      expect(pinned.stdout).toBe('"dev" no longer expires.\n');
      expect(
        op.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`),
      ).toEqual([
        'record:done',
        'branch:done',
        'cluster:done',
        'portainer:done',
        'argocd:done',
        'haproxy:done',
        'ready:done',
      ]);
      expect(requests).toEqual([
        'GET /api/endpoints?name=dev&excludeSnapshots=true',
        'POST /api/endpoints',
        'GET /api/endpoints/7',
      ]);
      // The new cluster holds the Edge Agent; the devops cluster the cluster and repository Secrets
      // and the ApplicationSet — every object accepted by the apiserver stand-in's rules.
      const creds = kube.get(
        'k3d-dev',
        'v1',
        'Secret',
        'portainer-edge-creds',
        'portainer-edge',
      ) as any;
      expect(Buffer.from(creds.data['edge-key'], 'base64').toString()).toBe(EDGE_KEY);
      const cluster = kube.get('k3d-devops', 'v1', 'Secret', 'cluster-dev', 'argocd') as any;
      expect(Buffer.from(cluster.data.server, 'base64').toString()).toBe(
        `${kube.url.replace('127.0.0.1', 'host.k3d.internal')}/k3d-dev`,
      );
      const appSet = kube.get(
        'k3d-devops',
        'argoproj.io/v1alpha1',
        'ApplicationSet',
        'whoami',
        'argocd',
      ) as any;
      expect(appSet.spec.template.spec.source.repoURL).toBe(ARGO_REPO);
      expect(appSet.spec.generators[0].list.elements).toEqual([
        { env: 'dev', hostEnv: 'dev', branch: 'dev', clusterName: 'dev', ingressClass: 'traefik' },
      ]);
      expect(fakes.argv()).toEqual([
        ['k3d', 'cluster', 'list', '-o', 'json'],
        ['docker', 'network', 'inspect', 'k3d-dev'],
        [
          'docker',
          'network',
          'create',
          'k3d-dev',
          '--subnet',
          '10.101.0.0/16',
          '--gateway',
          '10.101.0.1',
          '--opt',
          'com.docker.network.bridge.name=br-k3d-dev',
        ],
        [
          'k3d',
          'cluster',
          'create',
          'dev',
          '--image',
          'rancher/k3s:v1.31.5-k3s1',
          '--network',
          'k3d-dev',
          '--servers',
          '1',
          '--agents',
          '0',
          '--port',
          '18090:80@loadbalancer',
          '--port',
          '18443:443@loadbalancer',
          '--wait',
        ],
        ['k3d', 'kubeconfig', 'get', 'dev'],
        ['k3d', 'kubeconfig', 'get', 'dev'],
      ]);
      // The cluster's kubeconfig, as the provider gives it (context k3d-dev).
      const config = await cliInProcess(['kubeconfig', 'dev'], env);
      expect(config.code, config.stderr).toBe(0);
      expect(config.stdout).toMatch(/current-context: k3d-dev/);
      expect((await cliInProcess(['kubeconfig', 'nope'], env)).code).toBe(3);
      const git = (...a: string[]) =>
        execFileSync('git', [`--git-dir=${path.join(tmp, 'gitops.git')}`, ...a], {
          encoding: 'utf8',
        });
      expect(git('show', 'dev:deploy/values.yaml')).toContain('host: whoami.dev.example.test');
      expect(fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8')).toContain(
        'acl host_dev hdr_reg(host) -i ^[^.]+\\.dev\\.[^:]+',
      );
      expect(fs.existsSync(path.join(tmp, 'reloaded'))).toBe(true);
      expect(fs.readFileSync(path.join(tmp, 'data', 'environments.csv'), 'utf8')).toBe(
        '# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet\ndev,k3d,30080,19000,true,true,18090,18443,10.101.0.0/16\n',
      );
      const status = await cliInProcess(['status', 'dev', '--json'], env);
      expect(JSON.parse(status.stdout).environment).toMatchObject({
        name: 'dev',
        status: 'ready',
        httpPort: 18090,
        requestedBy: 'alice',
        sourceUrl: 'cli',
      });
    });

    it('stops and starts the cluster: status stopped, then ready again once it answers', async () => {
      fakes.clearArgv();
      const stop = await cliInProcess(['stop', 'dev', '--json'], env);
      expect(stop.code).toBe(0);
      expect(JSON.parse(stop.stdout)).toMatchObject({
        kind: 'stop',
        status: 'success',
        steps: [{ step: 'cluster', status: 'done', detail: 'stopped k3d cluster "dev"' }],
      });
      expect(fakes.state().k3d.dev?.running).toBe(false);
      const stopped = await cliInProcess(['status', 'dev', '--json'], env);
      expect(JSON.parse(stopped.stdout).environment).toMatchObject({ status: 'stopped' });
      // Stopping again changes nothing and says what to do instead.
      const again = await cliInProcess(['stop', 'dev'], env);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('"dev" is stopped already');
      expect(again.stderr).toContain('kindler start dev');
      const start = await cliInProcess(['start', 'dev', '--json'], env);
      expect(start.code).toBe(0);
      expect(
        JSON.parse(start.stdout).steps.map(
          (s: { step: string; status: string }) => `${s.step}:${s.status}`,
        ),
      ).toEqual(['cluster:done', 'ready:done']);
      expect(fakes.state().k3d.dev?.running).toBe(true);
      expect(fakes.argv().filter((a) => a[0] === 'k3d' && a[2] !== 'list')).toEqual([
        ['k3d', 'cluster', 'stop', 'dev'],
        ['k3d', 'cluster', 'start', 'dev', '--wait'],
      ]);
      const ready = await cliInProcess(['status', 'dev', '--json'], env);
      expect(JSON.parse(ready.stdout).environment).toMatchObject({ status: 'ready' });
    });

    it('deletes in order, the row last, every call asserted', async () => {
      fakes.clearArgv();
      nock(PORTAINER)
        .get('/api/endpoints')
        .query({ name: 'dev', excludeSnapshots: 'true' })
        .reply(200, [{ Id: 7, Name: 'dev' }])
        .delete('/api/endpoints/7')
        .reply(204);
      const result = await cliInProcess(['delete', 'dev', '--json'], env);
      expect(result.code).toBe(0);
      const op = JSON.parse(result.stdout);
      expect(
        op.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`),
      ).toEqual([
        'cluster:done',
        'portainer:done',
        'argocd:done',
        'haproxy:done',
        'branch:done',
        'record:done',
      ]);
      expect(fakes.argv()).toEqual([
        ['k3d', 'cluster', 'list', '-o', 'json'],
        ['k3d', 'cluster', 'delete', 'dev'],
        ['docker', 'network', 'rm', 'k3d-dev'],
      ]);
      expect(fakes.state()).toEqual({ k3d: {}, kind: {}, networks: {} });
      expect(kube.get('k3d-devops', 'v1', 'Secret', 'cluster-dev', 'argocd')).toBeNull();
      const appSet = kube.get(
        'k3d-devops',
        'argoproj.io/v1alpha1',
        'ApplicationSet',
        'whoami',
        'argocd',
      ) as any;
      expect(appSet.spec.generators[0].list.elements).toEqual([]);
      expect(fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8')).not.toContain('host_dev');
      expect(
        execFileSync('git', [`--git-dir=${path.join(tmp, 'gitops.git')}`, 'branch', '--list'], {
          encoding: 'utf8',
        }),
      ).toBe('');
      const list = await cliInProcess(['list', '--json'], env);
      expect(JSON.parse(list.stdout)).toEqual({ degraded: false, environments: [] });
    });
  },
);
