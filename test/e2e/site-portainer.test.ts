// A site with a Portainer of its own (its API key in PORTAINER_API_KEY_<SITE>): its environments
// register there, and only there, with their Edge Agent pointed at it; the other sites' with the
// devops side's Portainer. A check reads each Portainer apart, a delete removes the environment
// from its own, and a site whose key is not set is refused before anything is opened or written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';
import { startPortainerServer, type PortainerServer } from '../support/portainer-server.js';
import { cliInProcess } from '../support/cli.js';
import { siteWorld, type SiteWorld } from '../support/site-world.js';

const DEVOPS_KEY = 'ptr_DEVOPSKEY0123456789';
const B_KEY = 'ptr_SITEBKEY0123456789';

describe('a site with its own Portainer', () => {
  let world: SiteWorld;
  let kube: KubeApi;
  let devops: PortainerServer;
  let siteB: PortainerServer;
  let before: string | undefined;
  const names = (p: PortainerServer) => p.endpoints.map((e) => e.Name).sort();

  beforeAll(async () => {
    kube = await startKubeApi({ fakeClusters: true });
    devops = await startPortainerServer();
    siteB = await startPortainerServer();
    devops.apiKeys.add(DEVOPS_KEY);
    siteB.apiKeys.add(B_KEY);
    // The clusters the stand-in k3d makes answer on the apiserver stand-in.
    before = process.env.KINDLER_FAKE_KUBE_API;
    process.env.KINDLER_FAKE_KUBE_API = kube.url;
    world = await siteWorld(
      ['a', 'b'],
      (host) => [
        'sites:',
        `  - { name: a, docker_host: "${host('a')}" }`,
        `  - name: b`,
        `    docker_host: "${host('b')}"`,
        `    portainer: { url: "${siteB.url}", edge_url: "https://portainer.b.example" }`,
      ],
      {
        KINDLER_FAKE_KUBE_API: kube.url,
        PORTAINER_URL: devops.url,
        PORTAINER_API_KEY: DEVOPS_KEY,
        PORTAINER_API_KEY_B: B_KEY,
      },
    );
  }, 60_000);

  afterAll(async () => {
    if (before === undefined) delete process.env.KINDLER_FAKE_KUBE_API;
    else process.env.KINDLER_FAKE_KUBE_API = before;
    await world?.close();
    await Promise.all([devops?.close(), siteB?.close(), kube?.close()]);
  });

  it("registers a site's environments with its own Portainer only", async () => {
    const op = await world.create('us-1', '--site', 'b');
    expect(op.steps.find((s) => s.step === 'portainer')?.detail).toMatch(
      /^Edge environment created \(#1 in site b's Portainer\); agent deployed in portainer-edge$/,
    );
    await world.create('eu-1', '--site', 'a');
    expect(names(siteB)).toEqual(['us-1']);
    expect(names(devops)).toEqual(['eu-1']);
    // b's Edge key names b's Portainer as the agent reaches it (base64 of "<url>|<tunnel>|…").
    const key = Buffer.from(siteB.endpoints[0]!.EdgeKey, 'base64').toString('utf8');
    expect(key.split('|')[0]).toBe('https://portainer.b.example');
  }, 60_000);

  it('checks each Portainer apart; a delete removes the environment from its own', async () => {
    const clean = await world.cli('check', '--json');
    const report = JSON.parse(clean.stdout) as ConsistencyReport;
    expect(report.discrepancies).toEqual([]);
    expect(
      report.systems.filter((s) => s.system === 'portainer').map((s) => [s.site, s.state]),
    ).toEqual([
      [undefined, 'ok'],
      ['b', 'ok'],
    ]);
    // us-1's registration lost in b's Portainer behind kindler's back.
    siteB.endpoints.splice(0);
    const drift = JSON.parse((await world.cli('check', '--json')).stdout) as ConsistencyReport;
    expect(drift.discrepancies).toEqual([
      expect.objectContaining({
        system: 'portainer',
        kind: 'missing',
        name: 'us-1',
        detail: 'no Portainer environment "us-1"',
      }),
    ]);
    expect((await world.cli('sync', 'us-1')).code).toBe(0);
    expect(names(siteB)).toEqual(['us-1']);
    expect(names(devops)).toEqual(['eu-1']);
    expect((await world.cli('delete', 'us-1')).code).toBe(0);
    expect(names(siteB)).toEqual([]);
    expect(names(devops)).toEqual(['eu-1']);
  }, 60_000);

  it('refuses, before anything is written, when the site’s key is not set', async () => {
    const rows = (await world.rt.store.listEnvironments()).length;
    const env = { ...world.env, PORTAINER_API_KEY_B: '' };
    const result = await cliInProcess(['create', 'us-2', '--site', 'b'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `site b declares a Portainer (${siteB.url}) but PORTAINER_API_KEY_B is not set. To ` +
        'resolve, set PORTAINER_API_KEY_B to an API key of that Portainer',
    );
    expect((await world.rt.store.listEnvironments()).length).toBe(rows);
    // The key is a secret: never in what the CLI says.
    const status = await world.cli('status', 'eu-1');
    expect(status.stdout + status.stderr).not.toContain(B_KEY);
  }, 60_000);
});
