// Failure injection, one per step: the recorded status, failed step, message and fix are exact,
// and nothing after the failed step was touched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { startKubeApi } from '../support/kube-api.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { command, envName, type Trigger } from '../../src/domain/index.js';
import { GitHubBranchStore } from '../../src/git/github-branch-store.js';
import { openRuntime, type Runtime, type RuntimeOverrides } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { ContractOctokit, expectNoContractViolations } from '../support/github-contract.js';

const PORTAINER = 'https://portainer.example.test:9443';
const trigger: Trigger = {
  source: 'cli',
  actor: 'alice',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
};
let fakes: Fakes;
let restore: () => void;
let tmp: string;
let db: TestDatabase;
const runtimes: Runtime[] = [];

beforeAll(async () => {
  fakes = setupFakes();
  restore = fakes.apply();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-fail-'));
  db = await createTestDatabase();
  fs.copyFileSync(
    path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
    path.join(tmp, 'good.cfg'),
  );
  fs.writeFileSync(
    path.join(tmp, 'broken.cfg'),
    fs
      .readFileSync(path.join(tmp, 'good.cfg'), 'utf8')
      .replace('default_backend be_default_404', 'default_backend be_missing'),
  );
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  for (const rt of runtimes) await rt.close();
  nock.enableNetConnect();
  restore();
  fakes.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
  await db.drop();
});
afterEach(() => {
  expectNoContractViolations();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
  fakes.clearFailures();
});

async function runtime(
  extra: Record<string, string> = {},
  overrides: RuntimeOverrides = {},
): Promise<Runtime> {
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      KINDLER_RETRY_DELAYS_MS: 'none',
      HAPROXY_CONFIG: path.join(tmp, 'good.cfg'),
      ...extra,
    },
    tmp,
  );
  const rt = await openRuntime(config, overrides);
  await rt.store.migrate();
  runtimes.push(rt);
  return rt;
}

async function create(rt: Runtime, name: string) {
  const op = await rt.engine.request({
    kind: 'create',
    name: envName(name),
    provider: 'k3d',
    trigger,
  });
  return (await rt.engine.execute(op.id, { owner: 'test:1' }))!;
}

describe('a failing step is recorded exactly', () => {
  it('Git answers 503', async () => {
    const octokit = new ContractOctokit({
      auth: 'ghs_failuretest0123456789',
      request: { retries: 0 },
    });
    const rt = await runtime(
      {},
      {
        branches: new GitHubBranchStore(octokit, {
          owner: 'acme',
          repo: 'cfg',
          defaultBranch: 'main',
        }),
      },
    );
    nock('https://api.github.com').post('/graphql').reply(503, { message: 'Service Unavailable' });
    const op = await create(rt, 'f-git');
    expect(op).toMatchObject({
      status: 'failed',
      failedStep: 'branch',
      fixCommand: command('retry', 'f-git'),
    });
    expect(op.error).toMatch(
      /^writing branch "f-git" in GitHub acme\/cfg: GitHub answered 503: Service Unavailable/,
    );
    expect((await rt.store.getEnvironment('f-git'))?.status).toBe('failed');
    expect(fakes.argv()).toEqual([]);
  });

  it('k3d exits 1', async () => {
    const rt = await runtime();
    fakes.fail('k3d cluster create', {
      exit: 1,
      stderr: 'time="x" level=fatal msg="Failed to create cluster \'f-k3d\': docker not running"',
    });
    const op = await create(rt, 'f-k3d');
    expect(op).toMatchObject({
      status: 'failed',
      failedStep: 'cluster',
      fixCommand: command('retry', 'f-k3d'),
      error:
        'creating k3d cluster "f-k3d": k3d exited 1: time="x" level=fatal msg="Failed to create cluster \'f-k3d\': docker not running"',
    });
    expect(op.steps.find((s) => s.step === 'portainer')?.status).toBe('pending');
  });

  it('Portainer answers 500', async () => {
    const rt = await runtime({
      PORTAINER_URL: PORTAINER,
      PORTAINER_API_KEY: 'ptr_failkey0123456789abc',
    });
    nock(PORTAINER)
      .get('/api/endpoints')
      .query(true)
      .reply(200, [])
      .post('/api/endpoints')
      .reply(500, { message: 'Unable to persist environment', details: 'db closed' });
    const op = await create(rt, 'f-pt');
    expect(op).toMatchObject({
      status: 'failed',
      failedStep: 'portainer',
      fixCommand: command('retry', 'f-pt'),
      error:
        'registering "f-pt" in Portainer: Portainer POST /api/endpoints answered 500: Unable to persist environment',
    });
    expect(op.steps.find((s) => s.step === 'cluster')?.status).toBe('done');
  });

  it('the Kubernetes API answers an error', async () => {
    const kube = await startKubeApi({ fakeClusters: true });
    kube.addCluster('k3d-devops', 't0123456789', ['argocd']);
    process.env.KINDLER_FAKE_KUBE_API = kube.url;
    try {
      fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
      const rt = await runtime({
        DEVOPS_CONTEXT: 'k3d-devops',
        KUBECONFIG: path.join(tmp, 'kubeconfig'),
        ARGOCD_REPO_URL: 'https://git.example.test/org/gitops.git',
      });
      kube.fail({ method: 'PATCH', path: /serviceaccounts\/argocd-manager$/ }, 500);
      const op = await create(rt, 'f-argo');
      expect(op).toMatchObject({
        status: 'failed',
        failedStep: 'argocd',
        fixCommand: command('retry', 'f-argo'),
        error:
          'registering "f-argo" in Argo CD: k3d-f-argo: apply ServiceAccount kube-system/argocd-manager answered 500: injected fault',
      });
    } finally {
      delete process.env.KINDLER_FAKE_KUBE_API;
      await kube.close();
    }
  });

  it('haproxy -c rejects the config', async () => {
    const rt = await runtime({ HAPROXY_CONFIG: path.join(tmp, 'broken.cfg') });
    const before = fs.readFileSync(path.join(tmp, 'broken.cfg'), 'utf8');
    const op = await create(rt, 'f-ha');
    expect(op).toMatchObject({
      status: 'failed',
      failedStep: 'haproxy',
      fixCommand: command('retry', 'f-ha'),
    });
    expect(op.error).toMatch(
      new RegExp(
        `^haproxy rejected the new config \\(checked with: haproxy -c -f \\{file\\}\\); ${path.join(tmp, 'broken.cfg').replace(/[.]/g, '\\.')} was left unchanged:\n`,
      ),
    );
    expect(op.error).toContain("unable to find required default_backend: 'be_missing'");
    expect(fs.readFileSync(path.join(tmp, 'broken.cfg'), 'utf8')).toBe(before);
    expect(op.steps.find((s) => s.step === 'ready')?.status).toBe('pending');
  });
});
