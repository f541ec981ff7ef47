// Sites end to end: three Docker endpoints on this machine, each a unix socket the stand-in CLIs
// reach through DOCKER_HOST as the real ones do (a state of its own per endpoint), the third with
// nothing listening (refused, as a daemon that is down). Placement by label and by count, the
// refusal when every site is full, ports reused per site, a check that names the site that is
// down without blocking the others, and an orphan named with its site.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { siteWorld, type SiteWorld } from '../support/site-world.js';

describe('sites', () => {
  let world: SiteWorld;
  const host = (site: string) => world.host(site);
  /** The clusters the stand-in k3d holds on one site's Docker. */
  const clustersOn = (site: string): string[] => Object.keys(world.stateOn(site).k3d).sort();
  const cli = (...argv: string[]) => world.cli(...argv);
  const create = (...argv: string[]) => world.create(...argv);
  const siteOf = async (name: string) => (await world.rt.store.getEnvironment(name))?.site;

  beforeAll(async () => {
    // Two Docker endpoints that answer; the third's socket has nothing behind it.
    world = await siteWorld(['a', 'b'], (host) => [
      'sites:',
      `  - { name: a, docker_host: "${host('a')}", labels: { region: eu }, max_environments: 2 }`,
      `  - { name: b, docker_host: "${host('b')}", labels: { region: us }, max_environments: 3,` +
        ' address: 10.9.0.2 }',
      `  - { name: c, docker_host: "${host('c')}", labels: { region: eu } }`,
    ]);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('places by label past a site that is down, then by room, and refuses when all are full', async () => {
    // region=eu: a and c; c does not answer, so a.
    const eu = await create('eu-1', '--where', 'region=eu');
    expect(eu.status).toBe('success');
    expect(await siteOf('eu-1')).toBe('a');
    expect(eu.steps.find((s) => s.step === 'record')?.detail).toContain(', site a');
    expect(clustersOn('a')).toEqual(['eu-1']);
    // Each child of eu-1's cluster step was given site a's Docker, and only that.
    const k3dEnvs = fs
      .readFileSync(path.join(world.fakes.stateDir, 'env.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(k3dEnvs.some((e) => e.DOCKER_HOST === host('a'))).toBe(true);
    expect(k3dEnvs.some((e) => e.DOCKER_HOST === host('b'))).toBe(false);

    // Without a wish: the most room left first (b: 3 free, then a and b alike).
    for (const name of ['any-1', 'any-2', 'any-3', 'any-4']) await create(name);
    const placed = await Promise.all(['any-1', 'any-2', 'any-3', 'any-4'].map(siteOf));
    expect(placed[0]).toBe('b');
    expect(placed.filter((s) => s === 'a')).toHaveLength(1);
    expect(placed.filter((s) => s === 'b')).toHaveLength(3);
    expect(clustersOn('a')).toHaveLength(2);
    expect(clustersOn('b')).toHaveLength(3);
    // Ports are a site's own: the first of each site has the first port.
    const first = async (site: string) =>
      (await world.rt.store.listEnvironments())
        .filter((e) => e.site === site)
        .sort((x, y) => x.httpPort - y.httpPort)[0]?.httpPort;
    expect(await first('a')).toBe(18090);
    expect(await first('b')).toBe(18090);
    // The gateway reaches b's environments at b's address, a's where the bot runs.
    const gateway = fs.readFileSync(path.join(world.tmp, 'haproxy.cfg'), 'utf8');
    expect(gateway).toContain(' 10.9.0.2:18090');
    expect(gateway).toContain(' 127.0.0.1:18090');

    const full = await cli('create', 'more-1');
    expect(full.code).toBe(3);
    expect(full.stderr).toContain(
      'no site has room for "more-1": site a: 2 of 2 environments; 8 CPUs, 16.0 GiB, 2 ' +
        'containers running; site b: 3 of 3 environments; 8 CPUs, 16.0 GiB, 3 containers ' +
        `running; site c: down (Cannot connect to the Docker daemon at ${host('c')}. Is the ` +
        'docker daemon running?). To resolve, delete environments you no longer need',
    );
    const down = await cli('create', 'more-2', '--site', 'c');
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('no site has room for "more-2": site c: down (');
    const nowhere = await cli('create', 'more-3', '--site', 'zz');
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain(
      'there is no site "zz"; the sites are a (region=eu), b (region=us), c (region=eu)',
    );
    const unlabelled = await cli('create', 'more-4', '--where', 'region=ap');
    expect(unlabelled.code).toBe(2);
    expect(unlabelled.stderr).toContain('no site carries region=ap');
    for (const name of ['more-1', 'more-2', 'more-3', 'more-4'])
      expect(await world.rt.store.getEnvironment(name)).toBeNull();
  }, 120_000);

  it('checks each site apart: the one down is named, the others judged; an orphan says where', async () => {
    // A cluster no row claims, made on b's Docker behind kindler's back.
    execFileSync('k3d', ['cluster', 'create', 'stray', '--port', '18999:80@loadbalancer'], {
      env: { ...process.env, DOCKER_HOST: host('b') },
    });
    const result = await cli('check', '--json');
    expect(result.code).toBe(5);
    const report = JSON.parse(result.stdout) as ConsistencyReport;
    const c = report.systems.filter((s) => s.site === 'c');
    expect(c.map((s) => [s.system, s.state])).toEqual([
      ['k3d', 'unknown'],
      ['kind', 'unknown'],
    ]);
    expect(c[0]?.detail).toContain('site c: ');
    expect(c[0]?.detail).toContain('Cannot connect to the Docker daemon');
    expect(report.systems.find((s) => s.site === 'b' && s.system === 'k3d')).toMatchObject({
      state: 'ok',
      detail: 'site b: 4 listed',
    });
    expect(report.summary).toContain('k3d on site c, kind on site c could not be read');
    // Every environment on a and b is judged as it is: nothing missing, nothing mismatched.
    expect(report.discrepancies.filter((d) => d.kind !== 'orphan')).toEqual([]);
    expect(report.discrepancies).toContainEqual(
      expect.objectContaining({
        kind: 'orphan',
        system: 'k3d',
        name: 'stray',
        detail: 'k3d cluster "stray" on site b has no database row',
      }),
    );
  }, 60_000);

  it("a delete reaches the environment's own site", async () => {
    const deleted = await cli('delete', 'eu-1', '--json');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(clustersOn('a')).toHaveLength(1);
    expect(clustersOn('a')).not.toContain('eu-1');
    expect(clustersOn('b')).toContain('stray');
    // Its place is free again: a create asking for region=eu gets it.
    await create('eu-2', '--where', 'region=eu');
    expect(await siteOf('eu-2')).toBe('a');
  }, 60_000);

  it("two creates racing for a site's last place: one has it, the other is refused", async () => {
    expect((await cli('delete', 'eu-2')).code).toBe(0);
    const [one, two] = await Promise.all([
      cli('create', 'race-1', '--site', 'a'),
      cli('create', 'race-2', '--site', 'a'),
    ]);
    expect([one.code, two.code].sort()).toEqual([0, 3]);
    const refused = one.code === 3 ? one : two;
    expect(refused.stderr).toContain('site a: 2 of 2 environments');
    expect(clustersOn('a')).toHaveLength(2);
    expect((await world.rt.store.listEnvironments()).filter((e) => e.site === 'a')).toHaveLength(2);
  }, 60_000);
});
