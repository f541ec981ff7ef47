// Changing an environment in place, on every system's stand-in: the k3d/kind/docker fakes (their
// clusters' APIs served by the apiserver stand-in), a real bare Git repository, the Portainer
// stand-in, real haproxy configuration. An update runs only the steps its change needs and the
// check stays consistent; a provider or node change is refused until confirmed, then recreates
// the cluster; history lists each version with what it changed on every surface; a rollback
// restores version 1; audit filters by actor. The CLI, the console's API and its form, and a
// comment all go through the same action.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOf, perform } from '../../src/actions/index.js';
import { loadConfig } from '../../src/config/config.js';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { envName, type Operation } from '../../src/domain/index.js';
import { commentAnswer } from '../../src/github/answers.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { startPortainerServer, type PortainerServer } from '../support/portainer-server.js';

const KEY = 'ptr_UPDATEKEY0123456789abcdef';
const TOKEN = 'update-console-token-0123456789';

interface Step {
  step: string;
  status: string;
  detail: string | null;
}

describe('update, history and rollback', () => {
  let fakes: Fakes;
  let restore: () => void;
  let tmp: string;
  let db: TestDatabase;
  let kube: KubeApi;
  let portainer: PortainerServer;
  let env: Record<string, string>;
  let rt: Runtime;
  let server: http.Server;
  let base: string;

  const cli = (...argv: string[]) => cliInProcess(argv, env);
  /** Runs a CLI command that records an operation (--json) and returns that operation. */
  const run = async (...argv: string[]): Promise<Operation & { steps: Step[] }> => {
    const result = await cli(...argv, '--json');
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    return JSON.parse(result.stdout) as Operation & { steps: Step[] };
  };
  const ran = (op: { steps: Step[] }) =>
    op.steps.filter((s) => s.status !== 'skipped').map((s) => s.step);
  const check = async () => {
    const result = await cli('check', '--json');
    return { code: result.code, report: JSON.parse(result.stdout) as ConsistencyReport };
  };
  const haproxyCfg = () => fs.readFileSync(path.join(tmp, 'haproxy.cfg'), 'utf8');
  const api = (method: string, route: string, body?: object) =>
    fetch(`${base}/kindler/api/${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  /** Runs what the console's API queued, as a worker does. */
  const work = async (id: number) => {
    const final = await rt.engine.execute(id, { owner: 'test:worker' });
    expect(final?.status, final?.error ?? '').toBe('success');
    return final as Operation;
  };

  beforeAll(async () => {
    kube = await startKubeApi({ fakeClusters: true });
    kube.addCluster('k3d-devops', 'devops-token-0123456789', ['argocd']);
    portainer = await startPortainerServer();
    portainer.apiKeys.add(KEY);
    fakes = setupFakes();
    fakes.env.KINDLER_FAKE_KUBE_API = kube.url;
    restore = fakes.apply();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-update-'));
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
      path.join(tmp, 'haproxy.cfg'),
    );
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
    db = await createTestDatabase();
    env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'update.test',
      PORTAINER_URL: portainer.url,
      PORTAINER_API_KEY: KEY,
      PORTAINER_EDGE_URL: 'http://192.168.51.30:80',
      DEVOPS_CONTEXT: 'k3d-devops',
      KUBECONFIG: path.join(tmp, 'kubeconfig'),
      ARGOCD_REPO_URL: 'https://git.update.test/org/gitops.git',
      HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      HAPROXY_RELOAD_COMMAND: `touch ${path.join(tmp, 'reloaded')}`,
      KINDLER_RETRY_DELAYS_MS: 'none',
      KINDLER_READY_TIMEOUT: '0',
      USER: 'alice',
    };
    const created = await run('create', 'dev', 'k3d', '--ttl', '24h');
    expect(created.status).toBe('success');
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    server = await startHttpServer([dashboardHandler(rt, { token: TOKEN })], '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await rt?.close();
    restore?.();
    fakes?.cleanup();
    await portainer?.close();
    await kube?.close();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('an update of the TTL touches no system; of a registration, only that step', async () => {
    fakes.clearArgv();
    const before = Date.now();
    const ttl = await run('update', 'dev', '--ttl', '3d');
    expect(ttl).toMatchObject({ kind: 'update', status: 'success' });
    expect(ran(ttl)).toEqual(['record']);
    expect(ttl.steps[0]!.detail).toMatch(/^row updated: expiresAt \S+Z → \S+Z$/);
    expect(fakes.argv()).toEqual([]);
    const row = await rt.store.getEnvironment('dev');
    expect(row!.expiresAt!.getTime() - before).toBeGreaterThanOrEqual(3 * 86_400_000 - 1000);
    expect(row!.expiresAt!.getTime() - before).toBeLessThan(3 * 86_400_000 + 60_000);

    expect(haproxyCfg()).toContain('host_dev');
    const off = await run('update', 'dev', '--no-haproxy');
    expect(ran(off)).toEqual(['record', 'haproxy']);
    expect(off.steps.find((s) => s.step === 'haproxy')!.detail).toMatch(/removed|deleted/i);
    expect(haproxyCfg()).not.toContain('host_dev');
    expect(fakes.argv().filter((a) => a[0] === 'k3d' && a[2] === 'create')).toEqual([]);
    expect((await check()).code).toBe(0);

    const portainerOff = await run('update', 'dev', '--no-portainer');
    expect(ran(portainerOff)).toEqual(['record', 'portainer']);
    expect(portainer.endpoints.map((e) => e.Name)).toEqual([]);
    expect((await check()).code).toBe(0);
  });

  it('a change that changes nothing, and bad input, are refused and change nothing', async () => {
    const versions = (await rt.store.versions.list('dev')).length;
    const same = await cli('update', 'dev', '--no-haproxy');
    expect(same.code).toBe(7);
    expect(same.stderr).toContain('"dev" has that configuration already; nothing was changed');
    const bad = await cli('update', 'dev', '--servers', '9');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--servers takes a whole number from 1 to 5, not "9"');
    const both = await cli('update', 'dev', '--haproxy', '--no-haproxy');
    expect(both.stderr).toContain('--haproxy and --no-haproxy contradict each other');
    const none = await cli('update', 'dev');
    expect(none.stderr).toContain('Nothing to change: give --ttl');
    const refused = await api('PATCH', 'environments/dev', { servers: 'two' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: '"servers" must be a whole number' });
    expect((await rt.store.versions.list('dev')).length).toBe(versions);
  });

  it('a provider change is refused without --confirm and changes nothing, then recreates the cluster', async () => {
    const before = await rt.store.getEnvironment('dev');
    const ops = (await rt.store.listOperations({ envName: envName('dev') })).length;
    const refused = await cli('update', 'dev', '--provider', 'kind');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'changing the provider k3d → kind deletes "dev"\'s cluster and creates it again',
    );
    expect(refused.stderr).toContain('kindler update dev --provider kind --confirm');
    expect(await rt.store.getEnvironment('dev')).toEqual(before);
    expect((await rt.store.listOperations({ envName: envName('dev') })).length).toBe(ops);

    fakes.clearArgv();
    const moved = await run('update', 'dev', '--provider', 'kind', '--confirm');
    expect(moved.status).toBe('success');
    expect(ran(moved)).toEqual(['record', 'branch', 'cluster', 'argocd', 'ready']);
    expect(moved.steps.find((s) => s.step === 'cluster')!.detail).toMatch(
      /^deleted k3d cluster "dev"; created kind cluster "dev"/,
    );
    const state = fakes.state();
    expect(Object.keys(state.k3d)).toEqual([]);
    expect(Object.keys(state.kind)).toEqual(['dev']);
    const row = await rt.store.getEnvironment('dev');
    expect(row).toMatchObject({ provider: 'kind', subnet: null, status: 'ready' });
    expect(row!.nodePort).toBeGreaterThan(30080);
    expect(state.kind.dev!.config).toContain(`containerPort: ${row!.nodePort}`);
    // The branch is rendered for kind; Argo CD's cluster secret points at the kind cluster.
    const secret = kube.get('k3d-devops', 'v1', 'Secret', 'cluster-dev', 'argocd') as unknown as {
      data: Record<string, string>;
      metadata: { labels: Record<string, string> };
    };
    expect(secret.metadata.labels.provider).toBe('kind');
    expect(Buffer.from(secret.data.server!, 'base64').toString()).toMatch(/\/kind-dev$/);
    expect((await check()).code).toBe(0);
  });

  it("node counts change through the console's API: refused until confirmed, then the cluster has them", async () => {
    const refused = await api('PATCH', 'environments/dev', { agents: 2 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { fix: string }).fix).toBe(
      '/env update dev --agents 2 --confirm',
    );
    const accepted = await api('PATCH', 'environments/dev', { agents: 2, confirm: true });
    expect(accepted.status).toBe(202);
    const { operation } = (await accepted.json()) as { operation: Operation };
    expect(operation).toMatchObject({ kind: 'update', status: 'queued' });
    expect(operation.trigger).toMatchObject({ actor: 'operator', source: 'dashboard' });
    const done = await work(operation.id);
    expect(done.steps.find((s) => s.step === 'cluster')!.detail).toMatch(
      /^deleted kind cluster "dev"; created kind cluster "dev"/,
    );
    expect(fakes.state().kind.dev!.config.match(/role: worker/g)).toHaveLength(2);
    expect(await rt.store.getEnvironment('dev')).toMatchObject({ servers: 1, agents: 2 });
    // Run again (a worker that died after the cluster step): the new cluster is kept.
    const cluster = rt.handlers.cluster;
    const env = (await rt.store.getEnvironment('dev'))!;
    const again = await cluster.recreate!(
      { env, log: () => undefined, signal: new AbortController().signal },
      { ...env, agents: 0 },
    );
    expect(again).toMatch(
      /^kind cluster "dev" is the new one; kind cluster "dev" already present;/,
    );
  });

  it('history lists every version with what it changed, the same on every surface', async () => {
    const json = await cli('history', 'dev', '--json');
    const { versions } = JSON.parse(json.stdout) as {
      versions: { version: number; actor: string; changes: { field: string; to: unknown }[] }[];
    };
    expect(versions.map((v) => [v.version, v.actor])).toEqual([
      [6, 'operator'],
      [5, 'alice'],
      [4, 'alice'],
      [3, 'alice'],
      [2, 'alice'],
      [1, 'alice'],
    ]);
    expect(versions[0]!.changes).toEqual([{ field: 'agents', from: 0, to: 2 }]);
    expect(versions[1]!.changes).toEqual([{ field: 'provider', from: 'k3d', to: 'kind' }]);
    expect(versions[3]!.changes).toEqual([{ field: 'haproxyRoute', from: true, to: false }]);
    const text = await cli('history', 'dev');
    expect(text.stdout).toMatch(/^6\s+\S+Z\s+operator\s+dashboard\s+agents 0 → 2$/m);
    const api6 = (await (await api('GET', 'environments/dev/versions')).json()) as {
      versions: { version: number }[];
    };
    expect(api6.versions.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    const trigger = {
      source: 'issue_comment',
      actor: 'bob',
      url: null,
      repo: null,
      issueNumber: null,
      headSha: null,
    } as const;
    const said = commentAnswer(
      await perform({ verb: 'history', name: envName('dev') }, contextOf(rt, trigger)),
      '/env history dev',
      rt.urls,
    );
    expect((said as { reply: string }).reply).toMatch(
      /\| 5 \| \S+Z \| alice \| cli \| provider k3d → kind \|/,
    );
    const page = await (
      await fetch(`${base}/kindler/environments/dev`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).text();
    expect(page).toContain('(6 versions)');
    expect(page).toContain('provider k3d → kind');
  });

  it('a rollback to version 1 restores its settings as one update, recreating what it must', async () => {
    const refused = await cli('rollback', 'dev', '1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('kindler rollback dev 1 --confirm');
    const rolled = await run('rollback', 'dev', '1', '--confirm');
    expect(rolled).toMatchObject({ kind: 'update', status: 'success' });
    expect(rolled.change).toMatchObject({ rollbackTo: 1 });
    expect(ran(rolled)).toEqual([
      'record',
      'branch',
      'cluster',
      'portainer',
      'argocd',
      'haproxy',
      'ready',
    ]);
    const row = await rt.store.getEnvironment('dev');
    expect(row).toMatchObject({
      provider: 'k3d',
      registerPortainer: true,
      haproxyRoute: true,
      servers: 1,
      agents: 0,
      status: 'ready',
    });
    expect(row!.subnet).toMatch(/^10\.\d+\.0\.0\/16$/);
    expect(Object.keys(fakes.state().kind)).toEqual([]);
    expect(Object.keys(fakes.state().k3d)).toEqual(['dev']);
    expect(haproxyCfg()).toContain('host_dev');
    expect(portainer.endpoints.map((e) => e.Name)).toEqual(['dev']);
    // Version 7 is version 1's configuration again, apart from the expiry that had been moved on.
    const [latest, , , , , , first] = await rt.store.versions.list('dev');
    expect(latest!.version).toBe(7);
    expect({ ...latest!.config, expiresAt: null }).toEqual({ ...first!.config, expiresAt: null });
    expect((await check()).code).toBe(0);
    // A cluster whose nodes are not the row's is a difference, its fix a recreation.
    const state = fakes.state();
    (state.k3d.dev as { agents?: number }).agents = 2;
    fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
    const drift = await check();
    expect(drift.code).toBe(5);
    expect(JSON.stringify(drift.report.discrepancies)).toContain(
      'the cluster has 1 server(s) and 2 agent(s), the database says 1 and 0',
    );
    (state.k3d.dev as { agents?: number }).agents = 0;
    fs.writeFileSync(path.join(fakes.stateDir, 'state.json'), JSON.stringify(state));
  });

  it('audit lists operations and versions by actor', async () => {
    const mine = await cli('audit', '--actor', 'operator', '--json');
    const entries = JSON.parse(mine.stdout) as {
      entries: { type: string; what: string; actor: string; outcome: string | null }[];
    };
    expect(entries.entries.map((e) => [e.type, e.what, e.outcome])).toEqual([
      ['version', 'version 6', null],
      ['operation', 'update', 'success'],
    ]);
    const alice = JSON.parse((await cli('audit', '--actor', 'alice', '--json')).stdout) as {
      entries: { what: string }[];
    };
    expect(alice.entries.filter((e) => e.what === 'update')).toHaveLength(5);
  });
});
