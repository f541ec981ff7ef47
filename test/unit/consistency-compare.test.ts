// The consistency comparison on hand-made listings, judged by each system's own view: each class
// of difference with its fix, devops never an environment, unknown systems never consistent, busy
// environments not compared.
import { spell } from '../../src/domain/index.js';
import { describe, expect, it } from 'vitest';
import { compare as compareViews, type Expected } from '../../src/consistency/compare.js';
import type { Operation } from '../../src/domain/index.js';
import { branchView } from '../../src/git/branch-step.js';
import type { Observation } from '../../src/lifecycle/step.js';
import { clusterView } from '../../src/providers/cluster-view.js';
import type { ClusterInfo } from '../../src/providers/provider.js';
import type { ArgoItem } from '../../src/registrars/argocd-view.js';
import { argoView } from '../../src/registrars/argocd-view.js';
import { haproxyView } from '../../src/registrars/haproxy-step.js';
import { portainerView, type PortainerItem } from '../../src/registrars/portainer-step.js';
import type { Route } from '../../src/registrars/haproxy-config.js';
import { makeEnv } from '../support/env.js';

const TREE = 'a'.repeat(40);
const dev = makeEnv('dev');
const expected = (env = dev, extra: Partial<Expected> = {}): Expected => ({
  env,
  tree: TREE,
  route: `127.0.0.1:${env.httpPort}`,
  busy: null,
  ...extra,
});
const cluster = (name: string, http = 18090, https = 18443, running = true) => ({
  name,
  provider: 'k3d' as const,
  running,
  ports: [
    { host: http, container: 80 },
    { host: https, container: 443 },
  ],
});

interface Inventory {
  git: Observation<{ name: string; tree: string | null }>;
  k3d: Observation<ClusterInfo>;
  kind: Observation<ClusterInfo>;
  portainer: Observation<PortainerItem>;
  argocd: Observation<ArgoItem>;
  haproxy: Observation<Route>;
}

/** What checkConsistency does after reading: each step's view of its listing, then compare. */
function compare(
  expected: Expected[],
  inv: Inventory,
  options: { defaultBranch: string; checkedAt?: Date },
) {
  const views = {
    branch: branchView(inv.git, options.defaultBranch),
    cluster: clusterView({ local: { k3d: inv.k3d, kind: inv.kind } }),
    portainer: portainerView(inv.portainer),
    argocd: argoView(inv.argocd),
    haproxy: haproxyView(inv.haproxy),
  };
  return compareViews(expected, views, options.checkedAt ? { checkedAt: options.checkedAt } : {});
}

function inventory(over: Partial<Inventory> = {}): Inventory {
  return {
    git: {
      state: 'ok',
      items: [
        { name: 'main', tree: 'b'.repeat(40) },
        { name: 'devops', tree: null },
        { name: 'archive/old-20260101-000000', tree: null },
        { name: 'dev', tree: TREE },
      ],
    },
    k3d: { state: 'ok', items: [cluster('devops', 80, 443), cluster('dev')] },
    kind: { state: 'ok', items: [] },
    portainer: {
      state: 'ok',
      items: [
        { id: 1, name: 'local', type: 5 },
        { id: 2, name: 'devops', type: 7 },
        { id: 3, name: 'docker-host', type: 2 },
        { id: 7, name: 'dev', type: 7 },
      ],
    },
    argocd: { state: 'ok', items: [{ name: 'dev', secret: 'cluster-dev', provider: 'k3d' }] },
    haproxy: {
      state: 'ok',
      items: [{ name: 'dev', backend: 'be_dev', server: '127.0.0.1:18090' }],
    },
    ...over,
  };
}

const only = (report: ReturnType<typeof compare>) =>
  report.discrepancies.map((d) => `${d.kind} ${d.system} ${d.name} → ${spell(d.fix, 'cli')}`);

describe('consistency comparison', () => {
  it("is consistent when every system holds what the rows imply; devops, main, archive/* and Portainer's local are not environments", () => {
    const report = compare([expected(), expected(makeEnv('devops'))], inventory(), {
      defaultBranch: 'main',
    });
    expect(report.discrepancies).toEqual([]);
    expect(report.consistent).toBe(true);
    expect(report.summary).toBe('Consistent: no differences');
    expect(report.matrix).toEqual([
      {
        name: 'dev',
        provider: 'k3d',
        inDatabase: true,
        status: 'ready',
        cells: { git: 'ok', cluster: 'ok', portainer: 'ok', argocd: 'ok', haproxy: 'ok' },
      },
    ]);
    expect(report.systems.find((s) => s.system === 'database')).toMatchObject({ count: 1 });
  });

  it('reports what is missing in each system with the sync command', () => {
    const report = compare(
      [expected()],
      inventory({
        git: { state: 'ok', items: [] },
        k3d: { state: 'ok', items: [] },
        portainer: { state: 'ok', items: [] },
        argocd: { state: 'ok', items: [] },
        haproxy: { state: 'ok', items: [] },
      }),
      { defaultBranch: 'main' },
    );
    expect(only(report)).toEqual([
      'missing git dev → kindler sync dev',
      'missing k3d dev → kindler sync dev',
      'missing portainer dev → kindler sync dev',
      'missing argocd dev → kindler sync dev',
      'missing haproxy dev → kindler sync dev',
    ]);
    expect(report.consistent).toBe(false);
    expect(report.summary).toBe('Inconsistent: 5 differences (5 missing)');
  });

  it('reports orphans in each system with the prune command', () => {
    const report = compare(
      [expected()],
      inventory({
        git: {
          state: 'ok',
          items: [
            { name: 'dev', tree: TREE },
            { name: 'gone', tree: null },
            { name: 'Feature/x', tree: null },
          ],
        },
        k3d: { state: 'ok', items: [cluster('dev'), cluster('gone', 18091, 18444)] },
        kind: {
          state: 'ok',
          items: [{ name: 'stray', provider: 'kind', running: true, ports: [] }],
        },
        portainer: {
          state: 'ok',
          items: [
            { id: 7, name: 'dev', type: 7 },
            { id: 9, name: 'gone', type: 4 },
          ],
        },
        argocd: {
          state: 'ok',
          items: [
            { name: 'dev', secret: 'cluster-dev', provider: 'k3d' },
            { name: 'gone', secret: 'cluster-gone', provider: 'k3d' },
          ],
        },
        haproxy: {
          state: 'ok',
          items: [
            { name: 'dev', backend: 'be_dev', server: '127.0.0.1:18090' },
            { name: 'gone', backend: 'be_gone', server: '127.0.0.1:18091' },
          ],
        },
      }),
      { defaultBranch: 'main' },
    );
    expect(only(report)).toEqual([
      'orphan git gone → kindler prune gone',
      'orphan k3d gone → kindler prune gone',
      'orphan portainer gone → kindler prune gone',
      'orphan argocd gone → kindler prune gone',
      'orphan haproxy gone → kindler prune gone',
      'orphan kind stray → kindler prune stray',
    ]);
    expect(report.matrix.find((r) => r.name === 'gone')).toMatchObject({
      inDatabase: false,
      provider: null,
      cells: { git: 'orphan', cluster: 'orphan', haproxy: 'orphan' },
    });
  });

  it('reports mismatches: branch content, ports, provider, stopped cluster, route target, Argo CD provider', () => {
    const kindDev = makeEnv('kdev', {
      provider: 'kind',
      subnet: null,
      httpPort: 18091,
      httpsPort: 18444,
    });
    const routed = makeEnv('ip', { httpPort: 18092, httpsPort: 18445, serverIp: '10.101.0.2' });
    const stopped = makeEnv('stop', {
      httpPort: 18093,
      httpsPort: 18446,
      registerPortainer: false,
      haproxyRoute: false,
    });
    const report = compare(
      [
        expected(),
        expected(kindDev),
        { ...expected(routed), route: '10.101.0.2:30080' },
        expected(stopped),
      ],
      inventory({
        git: {
          state: 'ok',
          items: ['dev', 'kdev', 'ip', 'stop'].map((name) => ({
            name,
            tree: name === 'dev' ? 'c'.repeat(40) : TREE,
          })),
        },
        k3d: {
          state: 'ok',
          items: [
            cluster('dev', 18190),
            cluster('kdev', 18091, 18444),
            cluster('ip', 18092, 18445),
            cluster('stop', 18093, 18446, false),
          ],
        },
        portainer: {
          state: 'ok',
          items: ['dev', 'kdev', 'ip'].map((name, id) => ({ id, name, type: 7 })),
        },
        argocd: {
          state: 'ok',
          items: [
            { name: 'dev', secret: 'cluster-dev', provider: 'kind' },
            ...['kdev', 'ip', 'stop'].map((name) => ({
              name,
              secret: `cluster-${name}`,
              provider: null,
            })),
          ],
        },
        haproxy: {
          state: 'ok',
          items: [
            { name: 'dev', backend: 'be_dev', server: '127.0.0.1:18090' },
            { name: 'kdev', backend: 'be_kdev', server: '127.0.0.1:18091' },
            { name: 'ip', backend: 'be_ip', server: '127.0.0.1:18092' },
          ],
        },
      }),
      { defaultBranch: 'main' },
    );
    expect(
      report.discrepancies.map(
        (d) => `${d.kind} ${d.system} ${d.name}: ${d.detail} → ${spell(d.fix, 'cli')}`,
      ),
    ).toEqual([
      'mismatch git dev: deploy/ differs from what the templates render now → kindler sync dev',
      'mismatch k3d dev: port 80 is published on 18190, the database says 18090 → k3d cluster delete dev && kindler sync dev',
      'mismatch argocd dev: secret cluster-dev says kind, the database says k3d → kindler sync dev',
      'mismatch haproxy ip: be_ip goes to 127.0.0.1:18092, the database says 10.101.0.2:30080 → kindler sync ip',
      'mismatch kind kdev: the database says kind, the cluster runs in k3d → k3d cluster delete kdev && kindler sync kdev',
      'mismatch k3d stop: the cluster is stopped → kindler start stop',
    ]);
    expect(report.matrix.find((r) => r.name === 'stop')?.cells).toMatchObject({
      portainer: 'skipped',
      haproxy: 'skipped',
    });
  });

  it('a failed row is fixed by retry; a row being deleted by delete', () => {
    const report = compare(
      [
        expected(makeEnv('dev', { status: 'failed' })),
        expected(makeEnv('old', { status: 'delete_failed', httpPort: 18091, httpsPort: 18444 })),
      ],
      inventory({
        git: {
          state: 'ok',
          items: [
            { name: 'dev', tree: TREE },
            { name: 'old', tree: TREE },
          ],
        },
        k3d: { state: 'ok', items: [] },
        portainer: { state: 'skipped', reason: 'PORTAINER_URL is not set' },
        argocd: { state: 'skipped', reason: 'DEVOPS_CONTEXT is not set' },
        haproxy: { state: 'skipped', reason: 'HAPROXY_CONFIG is not set' },
      }),
      { defaultBranch: 'main' },
    );
    expect(only(report)).toEqual([
      'missing k3d dev → kindler retry dev',
      'missing k3d old → kindler delete old',
    ]);
  });

  it('an unreachable system is unknown, never consistent; a skipped one is reported as skipped', () => {
    const report = compare(
      [expected()],
      inventory({
        portainer: { state: 'unknown', reason: 'connect ECONNREFUSED 127.0.0.1:9443' },
        argocd: { state: 'skipped', reason: 'DEVOPS_CONTEXT is not set' },
      }),
      { defaultBranch: 'main' },
    );
    expect(report.discrepancies).toEqual([]);
    expect(report.consistent).toBe(false);
    expect(report.summary).toBe('Inconsistent: no differences; portainer could not be read');
    expect(report.systems.find((s) => s.system === 'portainer')).toEqual({
      system: 'portainer',
      state: 'unknown',
      detail: 'connect ECONNREFUSED 127.0.0.1:9443',
      count: null,
    });
    expect(report.systems.find((s) => s.system === 'argocd')).toEqual({
      system: 'argocd',
      state: 'skipped',
      detail: 'DEVOPS_CONTEXT is not set',
      count: null,
    });
    expect(report.matrix[0]?.cells).toMatchObject({
      portainer: 'unknown',
      argocd: 'skipped',
      git: 'ok',
    });
  });

  it('an environment with an operation under way is busy, not drift', () => {
    const busy = { id: 12, kind: 'create', status: 'running' } as Operation;
    const report = compare(
      [expected(dev, { busy })],
      inventory({ git: { state: 'ok', items: [] }, k3d: { state: 'ok', items: [] } }),
      { defaultBranch: 'main' },
    );
    expect(report.discrepancies).toEqual([]);
    expect(report.busy).toEqual([{ name: 'dev', operation: 'create #12 running' }]);
    expect(report.consistent).toBe(true);
    expect(report.summary).toBe('Consistent: no differences; 1 busy');
  });
});
