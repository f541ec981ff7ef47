// Portainer and Argo CD registration: Portainer's /api/endpoints with strict nock on its real
// paths and answers; both Kubernetes API servers (the new cluster's and the devops cluster's) are
// the apiserver stand-in, which refuses what a real apiserver refuses.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArgoCdStep } from '../../src/registrars/argocd-step.js';
import { KubeClient } from '../../src/registrars/kube.js';
import { PortainerClient } from '../../src/registrars/portainer-client.js';
import { Portainers } from '../../src/registrars/portainers.js';
import { PortainerStep } from '../../src/registrars/portainer-step.js';
import { makeEnv } from '../support/env.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { rejection } from '../support/rejection.js';
import { assess } from '../support/assess.js';

const PORTAINER = 'https://portainer.example.test:9443';
const EDGE_KEY = Buffer.from(
  'https://portainer.example.test:9443|portainer.example.test:8000|aa:bb|7',
)
  .toString('base64')
  .replace(/=+$/, '');
const REPO = 'https://git.example.test/org/gitops.git';

const dev = makeEnv('dev');
const ctx = { env: dev, log: () => undefined, signal: new AbortController().signal };
const secrets = ['ptr_SECRETKEY0123456789', EDGE_KEY, 'kube-token-dev', 'kube-token-devops'];
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

let kube: KubeApi;
beforeAll(async () => {
  kube = await startKubeApi({ tokenDelayMs: 20 });
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  nock.enableNetConnect();
  await kube.close();
});
beforeEach(() => {
  nock.cleanAll();
  kube.addCluster('k3d-dev', 'kube-token-dev');
  kube.addCluster('k3d-devops', 'kube-token-devops', ['argocd']);
});
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
    new Portainers(client),
    async () => kube.kubeconfig('k3d-dev'),
    'portainer/agent:2.23.0',
  );
  const creds = () =>
    kube.get('k3d-dev', 'v1', 'Secret', 'portainer-edge-creds', 'portainer-edge') as any;

  it('creates the Edge environment, reads it back and deploys the agent with the EdgeKey verbatim', async () => {
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
      .reply(200, { Id: 7, Name: 'dev', Type: 4, EdgeKey: EDGE_KEY, GroupId: 1 })
      .get('/api/endpoints/7')
      .reply(200, { Id: 7, Name: 'dev', Type: 4, EdgeKey: EDGE_KEY, GroupId: 1 });
    expect(await step.ensure(ctx)).toBe(
      'Edge environment created (#7); agent deployed in portainer-edge',
    );
    expect(portainer.isDone()).toBe(true);
    expect(b64(creds().data['edge-key'])).toBe(EDGE_KEY);
    expect(b64(creds().data['edge-id'])).toMatch(/^[0-9a-f-]{36}$/);
    const deployment = kube.get(
      'k3d-dev',
      'apps/v1',
      'Deployment',
      'portainer-edge-agent',
      'portainer-edge',
    ) as any;
    expect(deployment.spec.template.spec.containers[0].image).toBe('portainer/agent:2.23.0');
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
      name: 'EDGE_KEY',
      valueFrom: { secretKeyRef: { name: 'portainer-edge-creds', key: 'edge-key' } },
    });
    // Every write was a server-side apply by kindler.
    const writes = kube.requests.filter((r) => r.cluster === 'k3d-dev' && r.method !== 'GET');
    expect(writes.every((r) => r.method === 'PATCH' && r.query.fieldManager === 'kindler')).toBe(
      true,
    );
  });

  it("uses Portainer's Edge ID when Portainer enforces its own", async () => {
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .reply(200, [])
      .post('/api/endpoints')
      .reply(200, { Id: 8, Name: 'dev', EdgeKey: EDGE_KEY, EdgeID: 'f1e2d3c4-portainer-made' })
      .get('/api/endpoints/8')
      .reply(200, { Id: 8, Name: 'dev', EdgeKey: EDGE_KEY, EdgeID: 'f1e2d3c4-portainer-made' });
    await step.ensure(ctx);
    expect(b64(creds().data['edge-id'])).toBe('f1e2d3c4-portainer-made');
  });

  it('a recreated cluster gets the Edge ID the endpoint already knows, not a new one', async () => {
    // The endpoint outlived the cluster: Portainer recorded the first agent's ID and rejects others.
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .reply(200, [{ Id: 7, Name: 'dev', EdgeKey: EDGE_KEY, EdgeID: 'first-agent-edge-id' }]);
    expect(await step.ensure(ctx)).toBe(
      'Edge environment already present (#7); agent deployed in portainer-edge',
    );
    expect(b64(creds().data['edge-id'])).toBe('first-agent-edge-id');
  });

  it('a second ensure converges and keeps the Edge ID the cluster already has', async () => {
    const endpoint = [{ Id: 7, Name: 'dev', EdgeKey: EDGE_KEY }];
    nock(PORTAINER).get('/api/endpoints').query(true).times(2).reply(200, endpoint);
    await step.ensure(ctx);
    const first = b64(creds().data['edge-id']);
    const objects = kube.list('k3d-dev').length;
    expect(await step.ensure(ctx)).toBe(
      'Edge environment already present (#7); agent deployed in portainer-edge',
    );
    expect(b64(creds().data['edge-id'])).toBe(first);
    expect(kube.list('k3d-dev')).toHaveLength(objects);
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

  const jwt = (exp: number) =>
    `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ id: 1, exp })).toString('base64url')}.sig`;

  it('logs in with the admin password, keeps the token for its own lifetime', async () => {
    const withPassword = new PortainerClient({
      url: PORTAINER,
      username: 'admin',
      password: 'hunter22pw',
      edgeUrl: 'http://gw',
      groupId: 1,
    });
    const token = jwt(Math.floor(Date.now() / 1000) + 3600);
    nock(PORTAINER)
      .post('/api/auth', { Username: 'admin', Password: 'hunter22pw' })
      .reply(200, { jwt: token })
      .get('/api/endpoints')
      .query(true)
      .matchHeader('authorization', `Bearer ${token}`)
      .times(2)
      .reply(200, []);
    expect(await withPassword.findEndpoint('x')).toBeNull();
    expect(await withPassword.findEndpoint('y')).toBeNull(); // the JWT is reused, no second login
  });

  it('logs in again when Portainer ends the session early (401), and when the token expired', async () => {
    const withPassword = new PortainerClient({
      url: PORTAINER,
      username: 'admin',
      password: 'hunter22pw',
      edgeUrl: 'http://gw',
      groupId: 1,
    });
    const first = jwt(Math.floor(Date.now() / 1000) + 3600);
    const second = jwt(Math.floor(Date.now() / 1000) + 30); // expires within the minute's margin
    const third = jwt(Math.floor(Date.now() / 1000) + 3600);
    nock(PORTAINER)
      .post('/api/auth')
      .reply(200, { jwt: first })
      .get('/api/endpoints')
      .query(true)
      .matchHeader('authorization', `Bearer ${first}`)
      .reply(401, { message: 'Invalid JWT token', details: 'Unauthorized' })
      .post('/api/auth')
      .reply(200, { jwt: second })
      .get('/api/endpoints')
      .query(true)
      .matchHeader('authorization', `Bearer ${second}`)
      .reply(200, [])
      .post('/api/auth')
      .reply(200, { jwt: third })
      .get('/api/endpoints')
      .query(true)
      .matchHeader('authorization', `Bearer ${third}`)
      .reply(200, []);
    expect(await withPassword.findEndpoint('x')).toBeNull();
    expect(await withPassword.findEndpoint('y')).toBeNull();
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

  it('an answer of another shape is an error naming the field, and the check reads the system as unknown', async () => {
    // A proxy's HTML page, or a Portainer whose API changed: never cast into an endpoint.
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .times(2)
      .reply(200, [{ Name: 'dev', Type: 7 }]);
    const error = await rejection(step.ensure(ctx));
    expect(error.message).toBe(
      'registering "dev" in Portainer: Portainer GET /api/endpoints answered something unexpected at 0.Id: Invalid input: expected number, received undefined',
    );
    expect(await assess(step, dev)).toBe('unknown');
  });

  it('is skipped when unconfigured or disabled for the row', () => {
    expect(new PortainerStep(new Portainers(null), async () => '', 'x').skipReason(dev)).toBe(
      'PORTAINER_URL is not set',
    );
    expect(step.skipReason(makeEnv('q', { registerPortainer: false }))).toBe(
      'register_portainer is false for this environment',
    );
  });
});

describe('Argo CD', () => {
  let rows: ReturnType<typeof makeEnv>[] = [];
  const settings = {
    namespace: 'argocd',
    appSetName: 'whoami',
    repository: async () => ({
      url: REPO,
      credentials: { username: 'git-bot', password: 'git-pass-0123456789' },
    }),
    ingressClass: 'traefik',
    clusterHost: 'host.k3d.internal',
    tokenWait: { attempts: 20, delayMs: 10 },
  };
  const devops = () => KubeClient.fromYaml(kube.kubeconfig('k3d-devops'));
  const step = new ArgoCdStep(
    devops,
    async (env) => kube.kubeconfig(`k3d-${env.name}`),
    async () => rows,
    settings,
  );
  const appSet = () =>
    kube.get('k3d-devops', 'argoproj.io/v1alpha1', 'ApplicationSet', 'whoami', 'argocd') as any;
  beforeEach(() => {
    rows = [makeEnv('uat'), makeEnv('devops')];
  });

  it('registers the cluster, the repository and the ApplicationSet; a second environment updates it', async () => {
    expect(await step.ensure(ctx)).toBe(
      `registered: secret cluster-dev → ${kube.url.replace('127.0.0.1', 'host.k3d.internal')}/k3d-dev; repository ${REPO}; project kindler-dev; ApplicationSet whoami updated`,
    );
    // What dev's Application may deploy is bounded where Argo CD applies it: its own cluster and
    // namespace, no cluster-scoped kind, no RBAC, only the environment repository.
    const project = kube.get(
      'k3d-devops',
      'argoproj.io/v1alpha1',
      'AppProject',
      'kindler-dev',
      'argocd',
    ) as any;
    expect(project.spec).toEqual({
      description: expect.stringContaining('dev'),
      sourceRepos: [REPO],
      destinations: [{ name: 'dev', namespace: 'whoami' }],
      clusterResourceWhitelist: [],
      namespaceResourceBlacklist: [
        { group: 'rbac.authorization.k8s.io', kind: 'Role' },
        { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
      ],
    });
    expect(appSet().spec.template.spec.project).toBe('kindler-{{.env}}');
    expect(appSet().spec.template.spec.syncPolicy.syncOptions).toBeUndefined();
    // The namespace is the bot's to make, in the environment's own cluster.
    expect(kube.get('k3d-dev', 'v1', 'Namespace', 'whoami')).not.toBeNull();
    const secret = kube.get('k3d-devops', 'v1', 'Secret', 'cluster-dev', 'argocd') as any;
    expect(secret.metadata.labels).toEqual({
      'argocd.argoproj.io/secret-type': 'cluster',
      env: 'dev',
      provider: 'k3d',
      type: 'business',
    });
    expect(b64(secret.data.name)).toBe('dev');
    // The token is the one the token controller put in the manager's Secret.
    const tokenSecret = kube.get(
      'k3d-dev',
      'v1',
      'Secret',
      'argocd-manager-token',
      'kube-system',
    ) as any;
    expect(JSON.parse(b64(secret.data.config))).toEqual({
      bearerToken: b64(tokenSecret.data.token),
      tlsClientConfig: { insecure: true },
    });
    const repo = kube.get('k3d-devops', 'v1', 'Secret', 'external-git-whoami', 'argocd') as any;
    expect(repo.metadata.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'repository' });
    expect(
      Object.fromEntries(Object.entries(repo.data).map(([k, v]) => [k, b64(v as string)])),
    ).toEqual({
      type: 'git',
      url: REPO,
      username: 'git-bot',
      password: 'git-pass-0123456789',
    });
    expect(appSet().spec.template.spec.source.repoURL).toBe(REPO);
    expect(appSet().spec.generators[0].list.elements).toEqual([
      { env: 'dev', hostEnv: 'dev', branch: 'dev', clusterName: 'dev', ingressClass: 'traefik' },
      { env: 'uat', hostEnv: 'uat', branch: 'uat', clusterName: 'uat', ingressClass: 'traefik' },
    ]);

    // The second environment: the ApplicationSet exists now (a custom resource: a PUT without
    // resourceVersion would be refused with 422; server-side apply is not).
    kube.addCluster('k3d-qa', 'kube-token-qa');
    rows = [makeEnv('uat'), makeEnv('dev')];
    await step.ensure({ ...ctx, env: makeEnv('qa') });
    expect(appSet().spec.generators[0].list.elements.map((e: any) => e.env)).toEqual([
      'dev',
      'qa',
      'uat',
    ]);
    // And again (a resumed step): nothing changes, nothing is refused.
    await step.ensure({ ...ctx, env: makeEnv('qa') });
    expect(appSet().spec.generators[0].list.elements).toHaveLength(3);
  });

  it('removes the secret and the environment from the ApplicationSet; absent is fine', async () => {
    await step.ensure(ctx);
    rows = [makeEnv('uat')];
    expect(await step.remove(ctx)).toBe('secret cluster-dev deleted; ApplicationSet updated');
    expect(appSet().spec.generators[0].list.elements.map((e: any) => e.env)).toEqual(['uat']);
    expect(
      kube.get('k3d-devops', 'argoproj.io/v1alpha1', 'AppProject', 'kindler-dev', 'argocd'),
    ).toBeNull();
    expect(await step.remove(ctx)).toBe(
      'secret cluster-dev already absent; ApplicationSet updated',
    );
  });

  it('removing works when the repository cannot be reached: the ApplicationSet keeps its URL', async () => {
    await step.ensure(ctx);
    const unreachable = new ArgoCdStep(
      devops,
      async () => '',
      async () => rows,
      {
        ...settings,
        repository: async () => {
          throw new Error('the branches are kept in /data/git, a repository on this machine');
        },
      },
    );
    rows = [makeEnv('uat')];
    expect(await unreachable.remove(ctx)).toBe(
      'secret cluster-dev deleted; ApplicationSet updated',
    );
    expect(appSet().spec.template.spec.source.repoURL).toBe(REPO);
    expect(appSet().spec.generators[0].list.elements.map((e: any) => e.env)).toEqual(['uat']);
  });

  it('a Kubernetes API refusal is reported with its Status message, without the token', async () => {
    const refused = new ArgoCdStep(
      devops,
      async () => kube.kubeconfig('k3d-dev').replace('kube-token-dev', 'kube-token-wrong'),
      async () => rows,
      settings,
    );
    const error = await rejection(refused.ensure(ctx));
    expect(error.message).toBe(
      'registering "dev" in Argo CD: k3d-dev: apply Namespace whoami answered 401: Unauthorized',
    );
    for (const s of [...secrets, 'kube-token-wrong']) expect(error.message).not.toContain(s);
  });

  it('a repository Argo CD cannot reach is refused before anything is written', async () => {
    const local = new ArgoCdStep(
      devops,
      async () => kube.kubeconfig('k3d-dev'),
      async () => rows,
      {
        ...settings,
        repository: async () => {
          throw new Error('the branches are kept in /data/git, a repository on this machine');
        },
      },
    );
    const before = kube.requests.length;
    expect((await rejection(local.ensure(ctx))).message).toContain('/data/git');
    expect(kube.requests.length).toBe(before);
  });

  it('checks and skips', async () => {
    expect(await assess(step, dev)).toEqual([
      {
        kind: 'missing',
        system: 'argocd',
        detail: 'no cluster secret cluster-dev',
        fix: { verb: 'sync', args: ['dev'] },
      },
    ]);
    expect(
      new ArgoCdStep(
        null,
        async () => '',
        async () => rows,
        settings,
      ).skipReason(),
    ).toBe('DEVOPS_CONTEXT is not set');
  });
});
