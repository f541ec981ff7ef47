// kindler check / sync / prune end to end: a real database, a real bare Git repository, real
// haproxy config handling, the k3d fake, strict nock for Portainer and the devops API server.
// Each class of difference is produced on purpose and reported with its fix; sync repairs a
// deleted branch and a missing route and deletes nothing; prune previews, then archives.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { LATEST_REPORT } from '../../src/consistency/check.js';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { envName, spell } from '../../src/domain/index.js';
import { haproxyGateway } from '../../src/registrars/gateways.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startKubeApi, type KubeApi, type Obj } from '../support/kube-api.js';

const PORTAINER = 'https://portainer.example.test:9443';
const secret = (env: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: `cluster-${env}`,
    namespace: 'argocd',
    labels: { 'argocd.argoproj.io/secret-type': 'cluster', env, provider: 'k3d', type: 'business' },
  },
});
const inCluster = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'in-cluster',
    namespace: 'argocd',
    labels: { 'argocd.argoproj.io/secret-type': 'cluster' },
  },
};

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('consistency check, sync and prune', () => {
  let fakes: Fakes;
  let restore: () => void;
  let tmp: string;
  let db: TestDatabase;
  let kube: KubeApi;
  let env: Record<string, string>;
  let rt: Runtime;
  const git = (...a: string[]) =>
    execFileSync('git', [`--git-dir=${path.join(tmp, 'gitops.git')}`, ...a], {
      encoding: 'utf8',
    }).trim();
  const branches = () =>
    git('for-each-ref', '--format=%(refname:strip=2)', 'refs/heads')
      .split('\n')
      .filter(Boolean)
      .sort();
  const portainerList = (items: object[]) =>
    nock(PORTAINER, { reqheaders: { 'x-api-key': 'ptr_KEY0123456789abcdef' } })
      .get('/api/endpoints')
      .query({ excludeSnapshots: 'true' })
      .reply(200, items);
  // The devops cluster's Argo CD cluster Secrets are exactly these.
  const secretList = (items: Obj[]) => {
    for (const o of kube.list('k3d-devops', 'Secret'))
      if (o.metadata.namespace === 'argocd') kube.remove('k3d-devops', o);
    for (const o of items) kube.put('k3d-devops', o);
  };
  const PORTS: Record<string, [number, number]> = {
    devops: [80, 443],
    dev: [18090, 18443],
    web: [18091, 18444],
    gone: [18093, 18446],
  };
  const setClusters = (names: string[]) => {
    const state = fakes.state();
    state.k3d = Object.fromEntries(
      names.map((n) => [
        n,
        {
          ports: [
            { host: PORTS[n]?.[0], container: 80 },
            { host: PORTS[n]?.[1], container: 443 },
          ],
          network: `k3d-${n}`,
          running: true,
        } as never,
      ]),
    );
    fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
  };
  const check = async () => {
    const result = await cliInProcess(['check', '--json'], env);
    return {
      code: result.code,
      report: JSON.parse(result.stdout) as ConsistencyReport,
      stderr: result.stderr,
    };
  };

  beforeAll(async () => {
    fakes = setupFakes();
    restore = fakes.apply();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-consistency-'));
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
    kube = await startKubeApi();
    kube.addCluster('k3d-devops', 'devops-token-0123456789', ['argocd']);
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
    db = await createTestDatabase();
    env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'example.test',
      PORTAINER_URL: PORTAINER,
      PORTAINER_API_KEY: 'ptr_KEY0123456789abcdef',
      DEVOPS_CONTEXT: 'k3d-devops',
      KUBECONFIG: path.join(tmp, 'kubeconfig'),
      HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      HAPROXY_RELOAD_COMMAND: `touch ${path.join(tmp, 'reloaded')}`,
      KINDLER_RETRY_DELAYS_MS: 'none',
      KINDLER_CLI_TIMEOUT_MS: '5000',
    };
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    await rt.store.migrate();
    // Two ready environments, as a create would have left them.
    for (const name of ['dev', 'web']) {
      const row = await rt.store.insertEnvironment({ name: envName(name), provider: 'k3d' });
      await rt.store.updateEnvironment(row.name, { status: 'ready' });
      await rt.branches.ensure(row.name, await rt.render(row), `manifests for ${name}`);
    }
    await rt.store.importRecords([
      {
        name: 'devops',
        provider: 'k3d',
        subnet: null,
        nodePort: 30080,
        pfPort: 19999,
        httpPort: 80,
        httpsPort: 443,
        registerPortainer: false,
        haproxyRoute: false,
      },
    ]);
    await haproxyGateway(rt.config)?.sync(await rt.store.listEnvironments());
    setClusters(['devops', 'dev', 'web']);
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await rt.close();
    restore();
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db.drop();
    await kube.close();
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  it('finds everything consistent right after the environments were made; devops is not an environment', async () => {
    portainerList([
      { Id: 1, Name: 'local', Type: 5 },
      { Id: 7, Name: 'dev', Type: 7 },
      { Id: 8, Name: 'web', Type: 7 },
    ]);
    secretList([inCluster, secret('dev'), secret('web')]);
    const { code, report } = await check();
    expect(report.discrepancies).toEqual([]);
    expect(report.systems.map((s) => `${s.system} ${s.state} ${s.count}`)).toEqual([
      'database ok 2',
      'git ok 2',
      'k3d ok 3',
      'kind ok 0',
      'portainer ok 3',
      'argocd ok 2',
      'haproxy ok 2',
    ]);
    expect(report.matrix.map((r) => r.name)).toEqual(['dev', 'web']);
    expect(code).toBe(0);
  });

  it('reports each difference made on purpose with its fix, and an unreachable Portainer as unknown', async () => {
    git('update-ref', '-d', 'refs/heads/web'); // missing branch
    // dev's branch drifts: someone edited values.yaml by hand.
    const work = path.join(tmp, 'work');
    execFileSync('git', [
      'clone',
      '--quiet',
      '--branch',
      'dev',
      path.join(tmp, 'gitops.git'),
      work,
    ]);
    fs.appendFileSync(path.join(work, 'deploy', 'values.yaml'), 'extra: hand-edited\n');
    execFileSync('git', [
      '-C',
      work,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      'commit',
      '--quiet',
      '-am',
      'hand edit',
    ]);
    execFileSync('git', ['-C', work, 'push', '--quiet', 'origin', 'dev', 'dev:refs/heads/gone']); // and an orphan branch
    setClusters(['devops', 'dev', 'web', 'gone']); // orphan cluster (ports 18093/18446)
    await haproxyGateway(rt.config)?.sync([(await rt.store.getEnvironment('dev'))!]); // web's route lost
    // Portainer is down: its port refuses connections.
    const closed = await closedPort();
    const down = { ...env, PORTAINER_URL: `https://127.0.0.1:${closed}` };
    secretList([inCluster, secret('dev'), secret('web'), secret('gone')]);

    const result = await cliInProcess(['check', '--json'], down);
    const { code } = result;
    const report = JSON.parse(result.stdout) as ConsistencyReport;
    expect(
      report.discrepancies.map(
        (d) => `${d.kind} ${d.system} ${d.name}: ${d.detail} → ${spell(d.fix, 'cli')}`,
      ),
    ).toEqual([
      'mismatch git dev: deploy/ differs from the templates: deploy/values.yaml differs → kindler sync dev',
      'orphan git gone: branch "gone" has no database row → kindler prune gone',
      'orphan k3d gone: k3d cluster "gone" has no database row → kindler prune gone',
      'orphan argocd gone: Argo CD secret cluster-gone has no database row → kindler prune gone',
      'missing git web: no branch "web" → kindler sync web',
      'missing haproxy web: no route for "web" → kindler sync web',
    ]);
    expect(report.systems.find((s) => s.system === 'portainer')).toMatchObject({
      state: 'unknown',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    expect(report.matrix.find((r) => r.name === 'web')?.cells).toEqual({
      git: 'missing',
      cluster: 'ok',
      portainer: 'unknown',
      argocd: 'ok',
      haproxy: 'missing',
    });
    expect(report.consistent).toBe(false);
    expect(code).toBe(5);

    // The text form carries the same lines, and the latest report is kept for the dashboard.
    secretList([inCluster, secret('dev'), secret('web'), secret('gone')]);
    const text = await cliInProcess(['check'], down);
    expect(text.stdout).toContain(
      'Inconsistent: 6 differences (2 missing, 3 orphan, 1 mismatch); portainer could not be read',
    );
    expect(text.stdout).toContain('  portainer  ? unknown  ');
    expect(text.stdout).toContain(
      '✗ missing  haproxy   web: no route for "web"\n      fix: kindler sync web',
    );
    expect(text.code).toBe(5);
    expect((await rt.store.getState(LATEST_REPORT))?.discrepancies).toHaveLength(6);
  });

  it('sync repairs the deleted branch, the drifted branch and the missing route, and deletes nothing', async () => {
    fakes.clearArgv();
    for (let i = 0; i < 2; i++) {
      // before and after
      portainerList([
        { Id: 7, Name: 'dev', Type: 7 },
        { Id: 8, Name: 'web', Type: 7 },
      ]);
      secretList([inCluster, secret('dev'), secret('web'), secret('gone')]);
    }
    const result = await cliInProcess(['sync', '--json'], env);
    const { actions, report } = JSON.parse(result.stdout) as {
      actions: { name: string; action: string; outcome: string }[];
      report: ConsistencyReport;
    };
    expect(actions.map((a) => `${a.name} ${a.action} ${a.outcome}`)).toEqual([
      'dev ensure branch done',
      'web ensure branch done',
      'web ensure haproxy done',
    ]);
    // Each repair was an operation of the engine, recorded with its trigger and steps.
    for (const [name, ran] of [
      ['dev', ['branch', 'ready']],
      ['web', ['branch', 'haproxy', 'ready']],
    ] as const) {
      const op = (await rt.store.latestOperation(envName(name)))!;
      expect(op).toMatchObject({ kind: 'sync', status: 'success', trigger: { source: 'cli' } });
      expect(op.steps.filter((s) => s.status === 'done').map((s) => s.step)).toEqual(ran);
    }
    expect(git('show', 'web:deploy/values.yaml')).toContain('whoami.web.example.test');
    expect(git('show', 'dev:deploy/values.yaml')).not.toContain('hand-edited');
    expect(fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8')).toContain('backend be_web');
    // Orphans stay: sync deletes nothing.
    expect(branches()).toContain('gone');
    expect(fakes.argv().filter((a) => a.includes('delete'))).toEqual([]);
    expect(report.discrepancies.map((d) => `${d.kind} ${d.system} ${d.name}`)).toEqual([
      'orphan git gone',
      'orphan k3d gone',
      'orphan argocd gone',
    ]);
    expect(result.code).toBe(5);
  });

  it('prune only previews, under an id; --confirm <id> archives the branch and removes the rest', async () => {
    portainerList([
      { Id: 7, Name: 'dev', Type: 7 },
      { Id: 8, Name: 'web', Type: 7 },
    ]);
    secretList([inCluster, secret('dev'), secret('web'), secret('gone')]);
    const before = branches();
    fakes.clearArgv();
    const preview = await cliInProcess(['prune'], env);
    expect(preview.stdout).toContain('Would do (preview; nothing was changed):');
    const id =
      /To do this: kindler prune --confirm ([0-9a-f]{8}) \(before \S+Z\)\. Only what is listed is removed\./.exec(
        preview.stderr,
      )?.[1];
    expect(id, preview.stderr).toBeDefined();
    expect(preview.stdout).toContain('• gone: delete k3d cluster "gone" (k3d cluster delete gone)');
    expect(preview.stdout).toMatch(
      /• gone: archive branch "gone" as "archive\/gone-\d{8}-\d{6}", then delete it/,
    );
    expect(preview.code).toBe(0);
    expect(branches()).toEqual(before);
    expect(Object.keys(fakes.state().k3d)).toContain('gone');
    expect(fakes.argv().filter((a) => a.includes('delete'))).toEqual([]);

    const gone = git('rev-parse', 'gone');
    for (let i = 0; i < 2; i++)
      portainerList([
        { Id: 7, Name: 'dev', Type: 7 },
        { Id: 8, Name: 'web', Type: 7 },
      ]);
    secretList([inCluster, secret('dev'), secret('web'), secret('gone')]);
    const confirmed = await cliInProcess(['prune', '--confirm', id!], env);
    expect(confirmed.stdout).toContain('✓ gone: delete k3d cluster "gone"');
    expect(confirmed.stdout).toContain('Consistent: no differences');
    expect(confirmed.code).toBe(0);
    expect(kube.get('k3d-devops', 'v1', 'Secret', 'cluster-gone', 'argocd')).toBeNull();
    const archived = branches().find((b) => b.startsWith('archive/gone-')) as string;
    expect(archived).toMatch(/^archive\/gone-\d{8}-\d{6}$/);
    expect(git('rev-parse', archived)).toBe(gone);
    expect(branches()).not.toContain('gone');
    expect(Object.keys(fakes.state().k3d).sort()).toEqual(['dev', 'devops', 'web']);
    // The prune was an operation: `kindler status` shows it, with its trigger and steps.
    const status = JSON.parse((await cliInProcess(['status', 'gone', '--json'], env)).stdout);
    expect(status.environment).toBeNull();
    expect(status.operation).toMatchObject({
      kind: 'prune',
      status: 'success',
      trigger: { source: 'cli' },
    });
    expect(
      (status.operation.steps as { step: string; status: string }[])
        .filter((s) => s.status === 'done')
        .map((s) => s.step),
    ).toEqual(['cluster', 'argocd', 'branch']);
  });

  it('refuses to sync a name the database does not hold, and to prune a name that is not orphaned', async () => {
    for (let i = 0; i < 2; i++) {
      portainerList([
        { Id: 7, Name: 'dev', Type: 7 },
        { Id: 8, Name: 'web', Type: 7 },
      ]);
      secretList([inCluster, secret('dev'), secret('web')]);
    }
    const sync = await cliInProcess(['sync', 'nope'], env);
    expect(sync.stderr).toContain(
      'environment "nope" is not in the database; sync recreates only what the database holds',
    );
    expect(sync.code).toBe(3);
    const prune = await cliInProcess(['prune', 'dev'], env);
    expect(prune.stderr).toContain('nothing named "dev" is orphaned');
    expect(prune.code).toBe(3);
    expect(branches()).toContain('dev');
  });
});
