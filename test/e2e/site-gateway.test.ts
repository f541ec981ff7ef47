// A site with a gateway of its own: an HAProxy container on the site's Docker (the stand-in's
// container, whose files are a directory here and whose haproxy is the real one). Its
// environments' routes go there and only there — read, checked, replaced and reloaded through the
// site's DOCKER_HOST — under the site's domain, in their URLs and in their branches' manifests;
// the other sites' stay with the devops side's gateway. A check judges each gateway apart, a sync
// puts a lost route back, a delete takes it away, and a site whose gateway container is missing
// fails the step with Docker's own words.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { loadSites } from '../../src/config/sites.js';
import { ContainerGatewayFile } from '../../src/registrars/gateway-container.js';
import { parseRoutes } from '../../src/registrars/haproxy-config.js';
import { HaproxyGateway } from '../../src/registrars/haproxy-gateway.js';
import { makeEnv } from '../support/env.js';
import { siteWorld, type SiteWorld } from '../support/site-world.js';

const CONFIG = '/usr/local/etc/haproxy/haproxy.cfg';

describe('a site with its own gateway', () => {
  let world: SiteWorld;
  let root: string;
  let before: string | undefined;
  const gwConfig = () => fs.readFileSync(path.join(root, CONFIG), 'utf8');
  const routesOf = (text: string) => parseRoutes(text).map((r) => `${r.name} → ${r.server}`);
  const devopsRoutes = () => routesOf(fs.readFileSync(world.env.HAPROXY_CONFIG!, 'utf8'));
  const signals = (): string[] =>
    (world.stateOn('b') as { containers?: Record<string, { signals: string[] }> }).containers?.[
      'gw-b'
    ]?.signals ?? [];

  beforeAll(async () => {
    world = await siteWorld(['a', 'b', 'c'], (host) => [
      'sites:',
      `  - { name: a, docker_host: "${host('a')}", labels: { region: eu } }`,
      `  - name: b`,
      `    docker_host: "${host('b')}"`,
      `    labels: { region: us }`,
      `    gateway: { container: gw-b, base_domain: b.sites.test, http_port: 8080 }`,
      `  - name: c`,
      `    docker_host: "${host('c')}"`,
      `    labels: { region: ap }`,
      `    gateway: { container: gw-c, base_domain: c.sites.test }`,
    ]);
    // b's HAProxy: a container on b's Docker with the upstream config in its filesystem.
    root = path.join(world.tmp, 'gw-b');
    fs.mkdirSync(path.dirname(path.join(root, CONFIG)), { recursive: true });
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
      path.join(root, CONFIG),
    );
    before = process.env.KINDLER_FAKE_CONTAINERS;
    process.env.KINDLER_FAKE_CONTAINERS = JSON.stringify({
      'gw-b': { root, hosts: {}, endpoint: world.host('b') },
    });
    execFileSync('docker', ['run', '-d', '--name', 'gw-b', 'haproxy:3.0'], {
      env: { ...process.env, DOCKER_HOST: world.host('b') },
    });
  }, 60_000);

  afterAll(async () => {
    if (before === undefined) delete process.env.KINDLER_FAKE_CONTAINERS;
    else process.env.KINDLER_FAKE_CONTAINERS = before;
    await world?.close();
  });

  it("routes a site's environments through its own gateway, under its domain", async () => {
    const ub = await world.create('us-1', '--site', 'b');
    expect(ub.status).toBe('success');
    const haproxy = ub.steps.find((s) => s.step === 'haproxy');
    expect(haproxy?.detail).toBe(
      `route host_us-1 → be_us-1 added in gw-b:${CONFIG} on site b, config validated and reloaded`,
    );
    const port = (await world.rt.store.getEnvironment('us-1'))!.httpPort;
    // b's HAProxy reaches the cluster beside it; the devops side's gateway has no route for it.
    expect(routesOf(gwConfig())).toEqual([`us-1 → 127.0.0.1:${port}`]);
    expect(devopsRoutes()).toEqual([]);
    expect(signals()).toEqual(['HUP']);
    // A site without one routes through the devops side's, as before sites had gateways.
    await world.create('eu-1', '--site', 'a');
    expect(devopsRoutes().map((r) => r.split(' ')[0])).toEqual(['eu-1']);
    expect(routesOf(gwConfig())).toEqual([`us-1 → 127.0.0.1:${port}`]);
    // The URL and the manifests name the site's domain and its gateway's port.
    const status = await world.cli('status', 'us-1');
    expect(status.stdout).toContain('http://whoami.us-1.b.sites.test:8080');
    const eu = await world.cli('status', 'eu-1');
    expect(eu.stdout).toContain('http://whoami.eu-1.sites.test');
    const values = execFileSync(
      'git',
      ['--git-dir', path.join(world.tmp, 'gitops.git'), 'show', 'us-1:deploy/values.yaml'],
      { encoding: 'utf8' },
    );
    expect(values).toContain('host: whoami.us-1.b.sites.test');
  }, 60_000);

  it('checks each gateway apart; a sync puts a lost route back in its own', async () => {
    // c's gateway container is not there: named with Docker's words, the others judged.
    const first = await world.cli('check', '--json');
    expect(first.code).toBe(5);
    const clean = JSON.parse(first.stdout) as ConsistencyReport;
    expect(clean.discrepancies).toEqual([]);
    expect(
      clean.systems.filter((s) => s.system === 'haproxy').map((s) => [s.site, s.state, s.detail]),
    ).toEqual([
      [undefined, 'ok', '1 listed'],
      ['b', 'ok', 'site b: 1 listed'],
      [
        'c',
        'unknown',
        expect.stringContaining(
          "site c's gateway: docker exited 1: Error response from daemon: " +
            'No such container: gw-c',
        ),
      ],
    ]);
    // b's route lost behind kindler's back.
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
      path.join(root, CONFIG),
    );
    const result = await world.cli('check', '--json');
    expect(result.code).toBe(5);
    const report = JSON.parse(result.stdout) as ConsistencyReport;
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        system: 'haproxy',
        kind: 'missing',
        name: 'us-1',
        detail: 'no route for "us-1"',
      }),
    ]);
    // The sync puts it back; its check after still cannot read c's gateway (exit 5).
    const synced = await world.cli('sync', 'us-1');
    expect(synced.code, synced.stderr).toBe(5);
    expect(synced.stdout).toContain(
      'Inconsistent: no differences; haproxy on site c could not be read',
    );
    expect(routesOf(gwConfig()).map((r) => r.split(' ')[0])).toEqual(['us-1']);
    expect(devopsRoutes().map((r) => r.split(' ')[0])).toEqual(['eu-1']);
  }, 60_000);

  it('a delete takes the route out of its own gateway', async () => {
    const deleted = await world.cli('delete', 'us-1', '--json');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(routesOf(gwConfig())).toEqual([]);
    expect(devopsRoutes().map((r) => r.split(' ')[0])).toEqual(['eu-1']);
  }, 60_000);

  it("a site whose gateway container is missing fails the step with Docker's words", async () => {
    const result = await world.cli('create', 'ap-1', '--site', 'c', '--json');
    expect(result.code).toBe(1);
    const op = JSON.parse(result.stdout) as { failedStep: string; error: string };
    expect(op.failedStep).toBe('haproxy');
    expect(op.error).toContain('No such container: gw-c');
    expect(devopsRoutes().map((r) => r.split(' ')[0])).toEqual(['eu-1']);
  }, 60_000);

  it('a config its haproxy refuses is left unwritten; writers wait for one another', async () => {
    const site = loadSites(world.env.KINDLER_SITES).find((s) => s.name === 'b')!;
    const gateway = (lockWaitMs = 60_000) =>
      new HaproxyGateway({
        backendHost: '127.0.0.1',
        file: new ContainerGatewayFile({
          site,
          gateway: site.gateway!,
          timeoutMs: 10_000,
          lockWaitMs,
        }),
      });
    const live = path.join(root, CONFIG);
    const good = gwConfig();
    // A line outside the markers that the container's haproxy refuses: nothing is written.
    fs.writeFileSync(live, good.replace('defaults', 'defaults\n  bogus-keyword on'));
    const broken = gwConfig();
    await expect(gateway().sync([makeEnv('x1')])).rejects.toThrow(
      `haproxy rejected the new config (checked with: docker exec -i gw-b haproxy -c -f ` +
        `/dev/stdin); gw-b:${CONFIG} on site b was left unchanged`,
    );
    expect(gwConfig()).toBe(broken);
    fs.writeFileSync(live, good);
    // A lock left behind: named, with the command that removes it; nothing written.
    fs.mkdirSync(`${live}.kindler.lock`);
    await expect(gateway(300).sync([makeEnv('x1')])).rejects.toThrow(
      `To resolve, remove it if no kindler process is writing: docker exec gw-b rmdir ${CONFIG}` +
        '.kindler.lock',
    );
    expect(gwConfig()).toBe(good);
    fs.rmdirSync(`${live}.kindler.lock`);
    // Two writers at once (two processes' gateways): one after the other, the config whole.
    const results = await Promise.all([
      gateway().sync([makeEnv('x1')]),
      gateway().sync([makeEnv('x1'), makeEnv('x2', { httpPort: 18091 })]),
    ]);
    expect(results).toContain('changed');
    expect([['x1'], ['x1', 'x2']].map((n) => n.join())).toContain(
      parseRoutes(gwConfig())
        .map((r) => r.name)
        .join(),
    );
    expect(fs.existsSync(`${live}.kindler.lock`)).toBe(false);
  }, 60_000);
});
