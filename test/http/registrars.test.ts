// Portainer and Argo CD registration with strict nock on the real API paths: Portainer's
// /api/endpoints, the new cluster's and the devops cluster's Kubernetes APIs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArgoCdStep } from '../../src/registrars/argocd-step.js';
import { KubeClient } from '../../src/registrars/kube.js';
import { PortainerClient } from '../../src/registrars/portainer-client.js';
import { PortainerStep } from '../../src/registrars/portainer-step.js';
import { makeEnv } from '../support/env.js';
import { rejection } from '../support/rejection.js';

const PORTAINER = 'https://portainer.example.test:9443';
const DEV_API = 'https://dev.k3d.kube.test:6443';
const DEVOPS_API = 'https://devops.k3d.kube.test:6443';
const EDGE_KEY = Buffer.from(
  'https://portainer.example.test:9443|portainer.example.test:8000|aa:bb|7',
)
  .toString('base64')
  .replace(/=+$/, '');
const kubeconfig = (name: string, server: string) => `apiVersion: v1
kind: Config
current-context: k3d-${name}
clusters: [{ name: k3d-${name}, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
contexts: [{ name: k3d-${name}, context: { cluster: k3d-${name}, user: u-${name} } }]
users: [{ name: u-${name}, user: { token: kube-token-${name} } }]
`;

const dev = makeEnv('dev');
const ctx = { env: dev, log: () => undefined, signal: new AbortController().signal };
const secrets = [
  'ptr_SECRETKEY0123456789',
  EDGE_KEY,
  'kube-token-dev',
  'kube-token-devops',
  'argocd-manager-jwt',
];

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
beforeEach(() => nock.cleanAll());
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
});

describe('Portainer', () => {
  const client = new PortainerClient({
    url: PORTAINER,
    apiKey: 'ptr_SECRETKEY0123456789',
    username: 'admin',
    edgeUrl: 'http://192.168.51.30:80',
    groupId: 1,
  });
  const step = new PortainerStep(
    client,
    async () => kubeconfig('dev', DEV_API),
    'portainer/agent:2.23.0',
  );

  it('creates the Edge environment and deploys the agent with the EdgeKey verbatim', async () => {
    const portainer = nock(PORTAINER, { reqheaders: { 'x-api-key': 'ptr_SECRETKEY0123456789' } })
      .get('/api/endpoints')
      .query({ name: 'dev', excludeSnapshots: 'true' })
      .reply(200, [])
      .post('/api/endpoints', {
        Name: 'dev',
        EndpointCreationType: '4',
        URL: 'http://192.168.51.30:80',
        GroupID: '1',
      })
      .reply(200, { Id: 7, Name: 'dev', Type: 4, EdgeKey: EDGE_KEY, GroupId: 1 });
    const bodies: Record<string, unknown> = {};
    const kube = nock(DEV_API, { reqheaders: { authorization: 'Bearer kube-token-dev' } })
      .post('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'portainer-edge' },
      })
      .reply(201, {})
      .get('/api/v1/namespaces/portainer-edge/secrets/portainer-edge-creds')
      .reply(404, { kind: 'Status', code: 404 })
      .post('/api/v1/namespaces/portainer-edge/secrets', (b) => {
        bodies.secret = b;
        return true;
      })
      .reply(201, {})
      .post('/api/v1/namespaces/portainer-edge/serviceaccounts')
      .reply(201, {})
      .post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')
      .reply(201, {})
      .post('/api/v1/namespaces/portainer-edge/services')
      .reply(201, {})
      .post('/apis/apps/v1/namespaces/portainer-edge/deployments', (b) => {
        bodies.deployment = b;
        return true;
      })
      .reply(201, {});
    expect(await step.ensure(ctx)).toBe(
      'Edge environment created (#7); agent deployed in portainer-edge',
    );
    expect(portainer.isDone() && kube.isDone()).toBe(true);
    const secret = bodies.secret as {
      metadata: { name: string };
      stringData: Record<string, string>;
    };
    expect(secret.metadata.name).toBe('portainer-edge-creds');
    expect(secret.stringData['edge-key']).toBe(EDGE_KEY);
    expect(secret.stringData['edge-id']).toMatch(/^[0-9a-f-]{36}$/);
    const env = (bodies.deployment as any).spec.template.spec.containers[0].env;
    expect(env).toContainEqual({
      name: 'EDGE_KEY',
      valueFrom: { secretKeyRef: { name: 'portainer-edge-creds', key: 'edge-key' } },
    });
    expect((bodies.deployment as any).spec.template.spec.containers[0].image).toBe(
      'portainer/agent:2.23.0',
    );
  });

  it('a second ensure reuses the endpoint and the Edge ID, replacing objects that exist', async () => {
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .reply(200, [{ Id: 7, Name: 'dev', EdgeKey: EDGE_KEY }]);
    let secretBody: any;
    nock(DEV_API)
      .post('/api/v1/namespaces')
      .reply(409, { kind: 'Status', code: 409 })
      .put('/api/v1/namespaces/portainer-edge')
      .reply(200, {})
      .get('/api/v1/namespaces/portainer-edge/secrets/portainer-edge-creds')
      .reply(200, {
        data: { 'edge-id': Buffer.from('11111111-2222-3333-4444-555555555555').toString('base64') },
      })
      .post('/api/v1/namespaces/portainer-edge/secrets')
      .reply(409, {})
      .put('/api/v1/namespaces/portainer-edge/secrets/portainer-edge-creds', (b) => {
        secretBody = b;
        return true;
      })
      .reply(200, {})
      .post('/api/v1/namespaces/portainer-edge/serviceaccounts')
      .reply(409, {})
      .put('/api/v1/namespaces/portainer-edge/serviceaccounts/portainer-edge-agent')
      .reply(200, {})
      .post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')
      .reply(409, {})
      .put('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/portainer-edge-agent')
      .reply(200, {})
      .post('/api/v1/namespaces/portainer-edge/services')
      .reply(409, {})
      .put('/api/v1/namespaces/portainer-edge/services/portainer-edge-agent')
      .reply(200, {})
      .post('/apis/apps/v1/namespaces/portainer-edge/deployments')
      .reply(409, {})
      .put('/apis/apps/v1/namespaces/portainer-edge/deployments/portainer-edge-agent')
      .reply(200, {});
    expect(await step.ensure(ctx)).toBe(
      'Edge environment already present (#7); agent deployed in portainer-edge',
    );
    expect(secretBody.stringData['edge-id']).toBe('11111111-2222-3333-4444-555555555555');
  });

  it('removes by name and the legacy hyphen-less alias; absent is fine', async () => {
    const e = makeEnv('dev-a');
    nock(PORTAINER)
      .get('/api/endpoints')
      .query({ name: 'dev-a', excludeSnapshots: 'true' })
      .reply(200, [{ Id: 9, Name: 'dev-a' }])
      .delete('/api/endpoints/9')
      .reply(204)
      .get('/api/endpoints')
      .query({ name: 'deva', excludeSnapshots: 'true' })
      .reply(200, []);
    expect(await step.remove({ ...ctx, env: e })).toBe('Edge environment #9 removed');
    nock(PORTAINER).get('/api/endpoints').query(true).times(2).reply(200, []);
    expect(await step.remove({ ...ctx, env: e })).toBe('Edge environment already absent');
  });

  it('logs in with the admin password when there is no API key', async () => {
    const withPassword = new PortainerClient({
      url: PORTAINER,
      username: 'admin',
      password: 'hunter22pw',
      edgeUrl: 'http://gw',
      groupId: 1,
    });
    nock(PORTAINER)
      .post('/api/auth', { Username: 'admin', Password: 'hunter22pw' })
      .reply(200, { jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.signaturesig' })
      .get('/api/endpoints')
      .query(true)
      .matchHeader('authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.signaturesig')
      .times(2)
      .reply(200, []);
    expect(await withPassword.findEndpoint('x')).toBeNull();
    expect(await withPassword.findEndpoint('y')).toBeNull(); // the JWT is reused, no second login
  });

  it('reports Portainer errors with their message, and never a secret', async () => {
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .reply(200, [])
      .post('/api/endpoints')
      .reply(409, { message: 'Name is not unique', details: 'Conflict' });
    const error = await rejection(step.ensure(ctx));
    expect(error.message).toBe(
      'registering "dev" in Portainer: Portainer POST /api/endpoints answered 409: Name is not unique',
    );
    for (const s of secrets) expect(error.message).not.toContain(s);
  });

  it('is skipped when unconfigured or disabled for the row', () => {
    expect(new PortainerStep(null, async () => '', 'x').skipReason(dev)).toBe(
      'PORTAINER_URL is not set',
    );
    expect(step.skipReason(makeEnv('q', { registerPortainer: false }))).toBe(
      'register_portainer is false for this environment',
    );
  });
});

describe('Argo CD', () => {
  let dir: string;
  let devops: () => KubeClient;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-kube-'));
    fs.writeFileSync(
      path.join(dir, 'config'),
      kubeconfig('devops', DEVOPS_API).replace(
        'current-context: k3d-devops',
        'current-context: other',
      ),
    );
    devops = () => KubeClient.fromDefault('k3d-devops', path.join(dir, 'config'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const rows = async () => [makeEnv('uat'), makeEnv('devops')];
  const settings = {
    namespace: 'argocd',
    appSetName: 'whoami',
    repoUrl: 'https://git.example.test/org/gitops.git',
    ingressClass: 'traefik',
    clusterHost: 'host.k3d.internal',
    tokenWait: { attempts: 3, delayMs: 5 },
  };
  const step = new ArgoCdStep(
    () => devops(),
    async () => kubeconfig('dev', 'https://0.0.0.0:6550'),
    rows,
    settings,
  );

  it('creates the manager token in the new cluster and the cluster secret and ApplicationSet in devops', async () => {
    const target = nock('https://0.0.0.0:6550', {
      reqheaders: { authorization: 'Bearer kube-token-dev' },
    })
      .post('/api/v1/namespaces/kube-system/serviceaccounts', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'argocd-manager', namespace: 'kube-system' },
      })
      .reply(201, {})
      .post(
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        (b) =>
          b.metadata.name === 'argocd-manager-role-binding' && b.roleRef.name === 'cluster-admin',
      )
      .reply(201, {})
      .post(
        '/api/v1/namespaces/kube-system/secrets',
        (b) =>
          b.type === 'kubernetes.io/service-account-token' &&
          b.metadata.annotations['kubernetes.io/service-account.name'] === 'argocd-manager',
      )
      .reply(201, {})
      .get('/api/v1/namespaces/kube-system/secrets/argocd-manager-token')
      .reply(200, { data: {} })
      .get('/api/v1/namespaces/kube-system/secrets/argocd-manager-token')
      .reply(200, { data: { token: Buffer.from('argocd-manager-jwt').toString('base64') } });
    let clusterSecret: any;
    let appSet: any;
    const dv = nock(DEVOPS_API, { reqheaders: { authorization: 'Bearer kube-token-devops' } })
      .post('/api/v1/namespaces/argocd/secrets', (b) => {
        clusterSecret = b;
        return true;
      })
      .reply(201, {})
      .post('/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets', (b) => {
        appSet = b;
        return true;
      })
      .reply(409, {})
      .put('/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets/whoami')
      .reply(200, {});
    expect(await step.ensure(ctx)).toBe(
      'registered: secret cluster-dev → https://host.k3d.internal:6550; ApplicationSet whoami updated',
    );
    expect(target.isDone() && dv.isDone()).toBe(true);
    expect(clusterSecret.metadata).toEqual({
      name: 'cluster-dev',
      namespace: 'argocd',
      labels: {
        'argocd.argoproj.io/secret-type': 'cluster',
        env: 'dev',
        provider: 'k3d',
        type: 'business',
      },
    });
    expect(clusterSecret.stringData.name).toBe('dev');
    expect(JSON.parse(clusterSecret.stringData.config)).toEqual({
      bearerToken: 'argocd-manager-jwt',
      tlsClientConfig: { insecure: true },
    });
    expect(appSet.spec.generators[0].list.elements).toEqual([
      { env: 'dev', hostEnv: 'dev', branch: 'dev', clusterName: 'dev', ingressClass: 'traefik' },
      { env: 'uat', hostEnv: 'uat', branch: 'uat', clusterName: 'uat', ingressClass: 'traefik' },
    ]);
  });

  it('removes the secret and the environment from the ApplicationSet; absent is fine', async () => {
    let appSet: any;
    nock(DEVOPS_API)
      .delete('/api/v1/namespaces/argocd/secrets/cluster-dev')
      .reply(404, { kind: 'Status', code: 404 })
      .post('/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets', (b) => {
        appSet = b;
        return true;
      })
      .reply(201, {});
    expect(await step.remove(ctx)).toBe(
      'secret cluster-dev already absent; ApplicationSet updated',
    );
    expect(appSet.spec.generators[0].list.elements.map((e: any) => e.env)).toEqual(['uat']);
  });

  it('a Kubernetes API error is reported exactly, without the token', async () => {
    nock('https://0.0.0.0:6550').post('/api/v1/namespaces/kube-system/serviceaccounts').reply(403, {
      kind: 'Status',
      message: 'serviceaccounts is forbidden: User "system:anonymous" cannot create resource',
    });
    const error = await rejection(step.ensure(ctx));
    expect(error.message).toBe(
      'registering "dev" in Argo CD: k3d-dev: POST /api/v1/namespaces/kube-system/serviceaccounts answered 403: serviceaccounts is forbidden: User "system:anonymous" cannot create resource',
    );
    for (const s of secrets) expect(error.message).not.toContain(s);
  });

  it('checks and skips', async () => {
    nock(DEVOPS_API).get('/api/v1/namespaces/argocd/secrets/cluster-dev').reply(404, {});
    expect(await step.check(dev)).toEqual({
      state: 'absent',
      detail: 'no secret cluster-dev in argocd',
    });
    expect(new ArgoCdStep(null, async () => '', rows, settings).skipReason()).toBe(
      'DEVOPS_CONTEXT is not set',
    );
  });
});
