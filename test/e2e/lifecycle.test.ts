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

const PORTAINER = 'https://portainer.example.test:9443';
const DEV_API = 'https://dev.k3d.kube.test:6443';
const DEVOPS_API = 'https://devops.k3d.kube.test:6443';
const EDGE_KEY = Buffer.from(
  'https://portainer.example.test:9443|portainer.example.test:8000|aa:bb|7',
)
  .toString('base64')
  .replace(/=+$/, '');

describe.each(['postgres', 'pglite'] as const)('kindler create then delete on %s', (backend) => {
  let fakes: Fakes;
  let tmp: string;
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  let restore: () => void;

  beforeAll(async () => {
    fakes = setupFakes();
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
    fs.writeFileSync(
      path.join(tmp, 'kubeconfig'),
      `apiVersion: v1
kind: Config
current-context: k3d-devops
clusters: [{ name: k3d-devops, cluster: { server: "${DEVOPS_API}", insecure-skip-tls-verify: true } }]
contexts: [{ name: k3d-devops, context: { cluster: k3d-devops, user: admin } }]
users: [{ name: admin, user: { token: devops-token-0123456789 } }]
`,
    );
    if (backend === 'postgres') db = await createTestDatabase();
    env = {
      ...fakes.env,
      ...(db ? { DATABASE_URL: db.url } : {}),
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'example.test',
      PORTAINER_URL: PORTAINER,
      PORTAINER_API_KEY: 'ptr_E2EKEY0123456789abcdef',
      PORTAINER_EDGE_URL: 'http://192.168.51.30:80',
      DEVOPS_CONTEXT: 'k3d-devops',
      KUBECONFIG: path.join(tmp, 'kubeconfig'),
      HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      HAPROXY_RELOAD_COMMAND: `touch ${path.join(tmp, 'reloaded')}`,
      KINDLER_RETRY_DELAYS_MS: 'none',
      USER: 'alice',
    };
    nock.disableNetConnect();
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    restore();
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db?.drop();
  });
  afterEach(() => expect(nock.pendingMocks()).toEqual([]));

  it('creates: row, branch, cluster, Portainer, Argo CD, route — every call asserted', async () => {
    const requests: string[] = [];
    const log = (scope: nock.Scope) =>
      scope.on('request', (req: { method: string; path: string }) =>
        requests.push(`${req.method} ${req.path}`),
      );
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
        .reply(200, { Id: 7, Name: 'dev', EdgeKey: EDGE_KEY }),
    );
    log(
      nock(DEV_API, { reqheaders: { authorization: 'Bearer fake-token-dev' } })
        .post('/api/v1/namespaces')
        .reply(201, {})
        .get('/api/v1/namespaces/portainer-edge/secrets/portainer-edge-creds')
        .reply(404, {})
        .post(
          '/api/v1/namespaces/portainer-edge/secrets',
          (b) => b.stringData['edge-key'] === EDGE_KEY,
        )
        .reply(201, {})
        .post('/api/v1/namespaces/portainer-edge/serviceaccounts')
        .reply(201, {})
        .post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')
        .reply(201, {})
        .post('/api/v1/namespaces/portainer-edge/services')
        .reply(201, {})
        .post('/apis/apps/v1/namespaces/portainer-edge/deployments')
        .reply(201, {})
        .post('/api/v1/namespaces/kube-system/serviceaccounts')
        .reply(201, {})
        .post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')
        .reply(201, {})
        .post('/api/v1/namespaces/kube-system/secrets')
        .reply(201, {})
        .get('/api/v1/namespaces/kube-system/secrets/argocd-manager-token')
        .reply(200, { data: { token: Buffer.from('sa-token-for-argo').toString('base64') } }),
    );
    log(
      nock(DEVOPS_API, { reqheaders: { authorization: 'Bearer devops-token-0123456789' } })
        .post(
          '/api/v1/namespaces/argocd/secrets',
          (b) =>
            b.metadata.name === 'cluster-dev' &&
            JSON.parse(b.stringData.config).bearerToken === 'sa-token-for-argo' &&
            b.stringData.server === DEV_API,
        )
        .reply(201, {})
        .post(
          '/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets',
          (b) =>
            JSON.stringify(b.spec.generators[0].list.elements) ===
            JSON.stringify([
              {
                env: 'dev',
                hostEnv: 'dev',
                branch: 'dev',
                clusterName: 'dev',
                ingressClass: 'traefik',
              },
            ]),
        )
        .reply(201, {}),
    );

    const result = await cliInProcess(['create', 'dev', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    const op = JSON.parse(result.stdout);
    expect(op).toMatchObject({
      envName: 'dev',
      kind: 'create',
      status: 'success',
      trigger: { source: 'cli', actor: 'alice' },
    });
    expect(op.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'record:done',
      'branch:done',
      'cluster:done',
      'portainer:done',
      'argocd:done',
      'haproxy:done',
      'ready:done',
    ]);
    expect(requests).toHaveLength(15);
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

  it('deletes in order, the row last, every call asserted', async () => {
    fakes.clearArgv();
    nock(PORTAINER)
      .get('/api/endpoints')
      .query({ name: 'dev', excludeSnapshots: 'true' })
      .reply(200, [{ Id: 7, Name: 'dev' }])
      .delete('/api/endpoints/7')
      .reply(204);
    nock(DEVOPS_API)
      .delete('/api/v1/namespaces/argocd/secrets/cluster-dev')
      .reply(200, {})
      .post(
        '/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets',
        (b) => b.spec.generators[0].list.elements.length === 0,
      )
      .reply(409, {})
      .put('/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets/whoami')
      .reply(200, {});
    const result = await cliInProcess(['delete', 'dev', '--json'], env);
    expect(result.code).toBe(0);
    const op = JSON.parse(result.stdout);
    expect(op.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
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
    expect(fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8')).not.toContain('host_dev');
    expect(
      execFileSync('git', [`--git-dir=${path.join(tmp, 'gitops.git')}`, 'branch', '--list'], {
        encoding: 'utf8',
      }),
    ).toBe('');
    const list = await cliInProcess(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual({ degraded: false, environments: [] });
  });
});
