// k3d and kind providers against the stateful executable fakes: exact argv, idempotence,
// failures with their output, timeouts, drift.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientError, envName, type Environment } from '../../src/domain/index.js';
import { ClusterStep } from '../../src/providers/cluster-step.js';
import { K3dProvider, bridgeName } from '../../src/providers/k3d-provider.js';
import { KindProvider } from '../../src/providers/kind-provider.js';
import type { CliSettings } from '../../src/providers/provider.js';
import { rejection } from '../support/rejection.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { KindIngress } from '../../src/providers/kind-ingress.js';
import { assess } from '../support/assess.js';

const settings: CliSettings = {
  timeoutMs: 10_000,
  k3dImage: 'rancher/k3s:v1.31.5-k3s1',
  kindNodeImage: 'kindest/node:v1.31.12',
  kindApiServerAddress: '0.0.0.0',
};
const dev = envName('dev');

function env(partial: Partial<Environment>): Environment {
  return {
    name: dev,
    provider: 'k3d',
    subnet: '10.101.0.0/16',
    nodePort: 30080,
    pfPort: 19000,
    httpPort: 18090,
    httpsPort: 18443,
    serverIp: null,
    status: 'creating',
    registerPortainer: true,
    haproxyRoute: true,
    servers: 1,
    agents: 0,
    nodeCpus: null,
    nodeMemoryMib: null,
    requestedBy: null,
    sourceUrl: null,
    expiresAt: null,
    pinned: false,
    labels: {},
    site: 'local',
    source: null,
    deployed: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...partial,
  };
}
const ctx = (e: Environment) => ({
  env: e,
  log: () => undefined,
  signal: new AbortController().signal,
});

let fakes: Fakes;
let restore: () => void;
let kube: KubeApi;
beforeAll(async () => {
  kube = await startKubeApi({ fakeClusters: true });
  fakes = setupFakes();
  fakes.env.KINDLER_FAKE_KUBE_API = kube.url;
  restore = fakes.apply();
});
afterAll(async () => {
  restore();
  fakes.cleanup();
  await kube.close();
});
beforeEach(() => {
  fakes.clearArgv();
  fakes.clearFailures();
});

describe('k3d', () => {
  const k3d = new K3dProvider(settings);
  const step = new ClusterStep({ k3d, kind: new KindProvider(settings) });

  it('creates the network, then the cluster with the allocated ports', async () => {
    expect(await step.ensure(ctx(env({})))).toBe(
      'created k3d cluster "dev" (http 18090, https 18443, network k3d-dev 10.101.0.0/16)',
    );
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
    ]);
    expect(await assess(step, env({}))).toEqual([]);
  });

  it('a second ensure finds it and creates nothing', async () => {
    expect(await step.ensure(ctx(env({})))).toBe('k3d cluster "dev" already present');
    expect(fakes.argv()).toEqual([
      ['k3d', 'cluster', 'list', '-o', 'json'],
      ['k3d', 'cluster', 'list', '-o', 'json'],
    ]);
  });

  it('a cluster that exists with other ports is not adopted: refused with the fix', async () => {
    const error = await rejection(step.ensure(ctx(env({ httpPort: 18095 }))));
    expect(error.message).toBe(
      'k3d cluster "dev" exists but is not the one the database describes: port 80 is published on 18090, the database says 18095. To resolve, delete the cluster (k3d cluster delete dev), then retry',
    );
    expect(fakes.argv().some((a) => a.includes('create'))).toBe(false);
  });

  it('reports port drift between the row and the real mappings', async () => {
    expect(await assess(step, env({ httpPort: 18091 }))).toEqual([
      {
        kind: 'mismatch',
        system: 'k3d',
        detail: 'port 80 is published on 18090, the database says 18091',
        fix: { verb: 'sync', args: ['dev'], first: 'k3d cluster delete dev' },
      },
    ]);
  });

  it('stops and starts the cluster (k3d cluster stop|start); a check expects what the row says', async () => {
    fakes.clearArgv();
    expect(await step.stop(ctx(env({})))).toBe('stopped k3d cluster "dev"');
    expect(fakes.state().k3d.dev?.running).toBe(false);
    // Stopped outside the row's knowledge: drift, fixed by /env start; with the row stopped: fine.
    expect(await assess(step, env({}))).toEqual([
      {
        kind: 'mismatch',
        system: 'k3d',
        detail: 'the cluster is stopped',
        fix: { verb: 'start', args: ['dev'] },
      },
    ]);
    expect(await assess(step, env({ status: 'stopped' }))).toEqual([]);
    expect(await step.stop(ctx(env({})))).toBe('stopped k3d cluster "dev"'); // again: still fine
    expect(await step.start(ctx(env({ status: 'stopped' })))).toBe('started k3d cluster "dev"');
    expect(fakes.state().k3d.dev?.running).toBe(true);
    expect(await assess(step, env({ status: 'stopped' }))).toEqual([
      {
        kind: 'mismatch',
        system: 'k3d',
        detail: 'the cluster runs, but the environment was stopped',
        fix: { verb: 'stop', args: ['dev'] },
      },
    ]);
    expect(fakes.argv().filter((a) => a[1] === 'cluster' && a[2] !== 'list')).toEqual([
      ['k3d', 'cluster', 'stop', 'dev'],
      ['k3d', 'cluster', 'stop', 'dev'],
      ['k3d', 'cluster', 'start', 'dev', '--wait'],
    ]);
    // A cluster deleted outside kindler: the step says so and what recreates it.
    const gone = await rejection(step.stop(ctx(env({ name: envName('nope') }))));
    expect(gone.message).toBe(
      'there is no k3d cluster "nope" to stop: it was deleted outside kindler. To resolve, recreate it with a sync',
    );
  });

  it('deletes the cluster and its network; deleting again is fine', async () => {
    expect(await step.remove(ctx(env({})))).toBe('deleted k3d cluster "dev"');
    expect(fakes.argv().slice(1)).toEqual([
      ['k3d', 'cluster', 'delete', 'dev'],
      ['docker', 'network', 'rm', 'k3d-dev'],
    ]);
    expect(fakes.state().networks).toEqual({});
    expect(await step.remove(ctx(env({})))).toBe('k3d cluster "dev" already absent');
    expect(await assess(step, env({}))).toEqual([
      {
        kind: 'missing',
        system: 'k3d',
        detail: 'no k3d cluster "dev"',
        fix: { verb: 'sync', args: ['dev'] },
      },
    ]);
  });

  it('a failing k3d names the action and quotes its output', async () => {
    fakes.fail('k3d cluster create', {
      exit: 1,
      stderr:
        'time="x" level=fatal msg="Failed to create cluster \'dev\': port 18090 is already allocated"',
    });
    const error = await rejection(step.ensure(ctx(env({}))));
    expect(error.message).toBe(
      'creating k3d cluster "dev": k3d exited 1: time="x" level=fatal msg="Failed to create cluster \'dev\': port 18090 is already allocated"',
    );
    expect(error).not.toBeInstanceOf(TransientError);
  });

  it('a hanging k3d times out as a transient error', async () => {
    fakes.fail('k3d cluster list', { delayMs: 3_000 });
    const quick = new ClusterStep({
      k3d: new K3dProvider({ ...settings, timeoutMs: 300 }),
      kind: new KindProvider(settings),
    });
    const error = await rejection(quick.ensure(ctx(env({ name: envName('slow') }))));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('creating k3d cluster "slow": k3d timed out after 300 ms');
  });

  it('a k3d whose listing has another shape is an error naming the field, not a cast', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3d-shape-'));
    const bin = path.join(dir, 'k3d');
    // k3d 4 printed clusters under a different key; a wrapper may print a message instead.
    fs.writeFileSync(bin, '#!/bin/sh\necho \'[{"name":"dev","nodes":{"role":"server"}}]\'\n');
    fs.chmodSync(bin, 0o755);
    try {
      const odd = new K3dProvider({ ...settings, bins: { k3d: bin } });
      expect((await rejection(odd.list())).message).toBe(
        'k3d cluster list answered something unexpected at 0.nodes: expected an array',
      );
      // A load balancer's binding whose host port is a number, not Docker's string.
      fs.writeFileSync(
        bin,
        '#!/bin/sh\necho \'[{"name":"dev","nodes":[{"role":"loadbalancer",' +
          '"portMappings":{"80/tcp":[{"HostPort":18090}]}}]}]\'\n',
      );
      expect((await rejection(odd.list())).message).toBe(
        'k3d cluster list (0.nodes.0) answered something unexpected at 80/tcp.0.HostPort: ' +
          'expected a string',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names long bridges within the 15-character limit', () => {
    expect(bridgeName('k3d-dev')).toBe('br-k3d-dev');
    expect(bridgeName('k3d-a-much-longer-name')).toMatch(/^br-k3d-[0-9a-f]{8}$/);
  });
});

describe('kind', () => {
  const kind = new KindProvider(settings);
  const step = new ClusterStep(
    { k3d: new K3dProvider(settings), kind },
    new KindIngress((e) => kind.kubeconfig(e.name), 'traefik:v2.10'),
  );
  const kindEnv = env({
    provider: 'kind',
    subnet: null,
    nodePort: 30081,
    httpPort: 18093,
    httpsPort: 18446,
  });

  it('creates with a generated config on stdin, and an ingress controller on the NodePort', async () => {
    expect(await step.ensure(ctx(kindEnv))).toBe(
      'created kind cluster "dev" (http 18093, https 18446); ingress Traefik on NodePort 30081',
    );
    // Traefik answers for Host-routed ingresses on the NodePort that the host's http port reaches.
    const service = kube.get('kind-dev', 'v1', 'Service', 'traefik', 'traefik') as any;
    expect(service.spec).toMatchObject({
      type: 'NodePort',
      ports: [{ port: 80, nodePort: 30081, targetPort: 'web' }],
    });
    expect(kube.get('kind-dev', 'networking.k8s.io/v1', 'IngressClass', 'traefik')).toMatchObject({
      spec: { controller: 'traefik.io/ingress-controller' },
    });
    expect(fakes.argv()).toEqual([
      ['kind', 'get', 'clusters'],
      [
        'kind',
        'create',
        'cluster',
        '--name',
        'dev',
        '--image',
        'kindest/node:v1.31.12',
        '--config',
        '-',
        '--wait',
        '120s',
      ],
      ['kind', 'get', 'kubeconfig', '--name', 'dev'],
    ]);
    expect(fakes.state().kind.dev?.config).toBe(
      [
        'kind: Cluster',
        'apiVersion: kind.x-k8s.io/v1alpha4',
        'name: dev',
        'networking:',
        '  apiServerAddress: 0.0.0.0',
        'nodes:',
        '  - role: control-plane',
        '    extraPortMappings:',
        '      - containerPort: 30081',
        '        hostPort: 18093',
        '        protocol: TCP',
        '      - containerPort: 443',
        '        hostPort: 18446',
        '        protocol: TCP',
        '',
      ].join('\n'),
    );
    expect(await assess(step, kindEnv)).toEqual([]);
    expect(await kind.kubeconfig(dev)).toContain(`server: ${kube.url}/kind-dev`);
  });

  it('stops and starts the node containers with docker (kind has no stop of its own)', async () => {
    fakes.clearArgv();
    expect(await step.stop(ctx(kindEnv))).toBe('stopped kind cluster "dev"');
    expect(await kind.get(dev)).toEqual({
      name: 'dev',
      provider: 'kind',
      running: false,
      ports: [],
      nodes: { servers: 1, agents: 0 },
    });
    expect(await assess(step, { ...kindEnv, status: 'stopped' })).toEqual([]);
    expect(await step.start(ctx({ ...kindEnv, status: 'stopped' }))).toBe(
      'started kind cluster "dev"',
    );
    expect(await assess(step, kindEnv)).toEqual([]);
    expect(fakes.argv().filter((a) => a[0] === 'docker' && a[1] !== 'inspect')).toEqual([
      ['docker', 'stop', 'dev-control-plane'],
      ['docker', 'start', 'dev-control-plane'],
    ]);
    expect(fakes.argv()).toContainEqual(['kind', 'get', 'nodes', '--name', 'dev']);
  });

  it('is idempotent both ways', async () => {
    expect(await step.ensure(ctx(kindEnv))).toBe(
      'kind cluster "dev" already present; ingress Traefik on NodePort 30081',
    );
    expect(await step.remove(ctx(kindEnv))).toBe('deleted kind cluster "dev"');
    expect(await step.remove(ctx(kindEnv))).toBe('kind cluster "dev" already absent');
  });
});
