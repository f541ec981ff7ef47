// Node sizing end to end, on two sites the stand-in CLIs serve (each Docker endpoint with its own
// state): a site's default node size, sizes asked for on k3d (its --servers-memory/--agents-memory,
// CPUs through docker update) and on kind (docker update of its node containers), a site's CPU and
// memory budgets refusing a create and an update that would pass them, a node bigger than a site's
// Docker refused, a change of CPUs applied to the running nodes and a change of k3d's memory
// recreating the cluster only when confirmed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/domain/index.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { siteWorld, type SiteWorld } from '../support/site-world.js';

const GiB = 2 ** 30;

describe('node sizing', () => {
  let world: SiteWorld;
  let kube: KubeApi;
  const env = (name: string) => world.rt.store.getEnvironment(name);
  const detailOf = (op: Operation, step: string) => op.steps.find((s) => s.step === step)?.detail;

  beforeAll(async () => {
    // kind's clusters get an ingress controller: their API servers are the stand-in's.
    kube = await startKubeApi({ fakeClusters: true });
    process.env.KINDLER_FAKE_KUBE_API = kube.url;
    world = await siteWorld(['a', 'b'], (host) => [
      'sites:',
      `  - name: a`,
      `    docker_host: "${host('a')}"`,
      '    node_cpus: 1',
      '    node_memory: 1g',
      '    max_cpus: 4',
      '    max_memory: 6g',
      `  - { name: b, docker_host: "${host('b')}", http_ports: 20090-20092 }`,
    ]);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    delete process.env.KINDLER_FAKE_KUBE_API;
    await kube?.close();
  });

  it("a create without a size gets its site's default: k3d's memory flags, CPUs by docker update", async () => {
    const op = await world.create('k-1', '--site', 'a');
    expect(op.status).toBe('success');
    expect(await env('k-1')).toMatchObject({ nodeCpus: 1, nodeMemoryMib: 1024, site: 'a' });
    const a = world.stateOn('a');
    expect(a.k3d['k-1']?.memory).toEqual({ servers: GiB });
    expect(a.limits?.['k3d-k-1-server-0']).toEqual({ cpus: 1 });
    expect(detailOf(op, 'cluster')).toContain('1 CPU and 1g per node');
    const status = await world.cli('status', 'k-1');
    expect(status.stdout).toContain('nodes     1 server, 0 agents; 1 CPU and 1g per node');
    expect(status.stdout).toContain('site      a');
  }, 60_000);

  it('kind nodes get the size asked for through docker update, memory and swap alike', async () => {
    const op = await world.create('kd-1', 'kind', '--site', 'b', '--agents', '1');
    expect(op.status).toBe('success');
    expect(world.stateOn('b').limits ?? {}).toEqual({});
    const sized = await world.create(
      'kd-2',
      'kind',
      '--site',
      'b',
      '--agents',
      '1',
      '--cpus',
      '2',
      '--memory',
      '1.5g',
    );
    expect(sized.status).toBe('success');
    const limits = world.stateOn('b').limits ?? {};
    for (const node of ['kd-2-control-plane', 'kd-2-worker'])
      expect(limits[node]).toEqual({ cpus: 2, memory: 1.5 * GiB, memorySwap: 1.5 * GiB });
    expect(await env('kd-2')).toMatchObject({ nodeCpus: 2, nodeMemoryMib: 1536 });
  }, 60_000);

  it("a site's budgets refuse what would pass them, naming the budget; nothing is recorded", async () => {
    // a: k-1 holds 1 CPU and 1g; three nodes of 1 CPU reach max_cpus 4 exactly.
    await world.create('k-2', '--site', 'a', '--agents', '2');
    const refused = await world.cli('create', 'k-3', '--site', 'a');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      'no site has room for "k-3": site a: 2 environments, 4 of 4 CPUs held, 4g of 6g memory ' +
        'held (67 %); 8 CPUs, 16.0 GiB, 2 containers running; 1 node(s) of 1 CPUs need 1, 0 ' +
        'left of max_cpus',
    );
    expect(await env('k-3')).toBeNull();
    // A node bigger than the site's Docker has (8 CPUs) goes nowhere.
    const big = await world.cli('create', 'big-1', '--site', 'b', '--cpus', '12');
    expect(big.code).toBe(3);
    expect(big.stderr).toContain("a node of 12 CPUs is more than its Docker's 8");
    expect(await env('big-1')).toBeNull();
    // An update that would grow past a budget is refused and changes nothing.
    const grow = await world.cli('update', 'k-2', '--cpus', '2');
    expect(grow.code).toBe(3);
    expect(grow.stderr).toContain(
      'site a: 3 node(s) of 2 CPUs need 6, 3 left of max_cpus. To resolve, ask for less',
    );
    expect(await env('k-2')).toMatchObject({ nodeCpus: 1 });
  }, 60_000);

  it('a site allocates from its own ranges, and says which to widen when they are used up', async () => {
    // b: kd-1 and kd-2 hold 20090 and 20091 (a site's own http_ports; https and pf as ever).
    expect((await env('kd-2'))?.httpPort).toBe(20091);
    await world.create('kd-3', '--site', 'b');
    expect((await env('kd-3'))?.httpPort).toBe(20092);
    const none = await world.cli('create', 'kd-4', '--site', 'b');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'no free value left in 20090-20092. To resolve, widen http_ports of site b in ' +
        'KINDLER_SITES or delete environments you no longer need',
    );
    expect(await env('kd-4')).toBeNull();
    // a keeps KINDLER_HTTP_PORTS.
    expect((await env('k-1'))?.httpPort).toBe(18090);
  }, 60_000);

  it('a change of CPUs is applied to the running nodes; a change of k3d memory recreates, confirmed', async () => {
    world.fakes.clearArgv();
    const resized = await world.cli('update', 'kd-2', '--cpus', '3', '--json');
    expect(resized.code, resized.stderr).toBe(0);
    const op = JSON.parse(resized.stdout) as Operation;
    expect(op.status).toBe('success');
    expect(detailOf(op, 'cluster')).toBe(
      'kind cluster "kd-2": its nodes now have 3 CPUs and 1.5g per node',
    );
    expect(world.stateOn('b').limits?.['kd-2-worker']).toMatchObject({ cpus: 3 });
    // Nothing was remade: no cluster deleted or created.
    const calls = world.fakes.argv().map((a) => a.join(' '));
    expect(
      calls.filter((c) => /cluster (create|delete)|create cluster|delete cluster/.test(c)),
    ).toEqual([]);
    expect(calls).toContain(
      'docker update --cpus 3 --memory 1536m --memory-swap 1536m ' +
        'kd-2-control-plane kd-2-worker',
    );

    const unconfirmed = await world.cli('update', 'k-1', '--memory', '2g');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(
      'changing node memory 1g → 2g (k3d sets it as it makes a node) deletes "k-1"\'s cluster',
    );
    expect(world.stateOn('a').k3d['k-1']?.memory).toEqual({ servers: GiB });
    const confirmed = await world.cli('update', 'k-1', '--memory', '2g', '--confirm', '--json');
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(world.stateOn('a').k3d['k-1']?.memory).toEqual({ servers: 2 * GiB });
    expect(world.stateOn('a').limits?.['k3d-k-1-server-0']).toEqual({ cpus: 1 });
    const history = await world.cli('history', 'k-1');
    expect(history.stdout).toContain('nodeMemoryMib 1024 → 2048');
  }, 60_000);
});
