// Which place serves an environment — its site's own gateway or Portainer, else the devops
// side's — and what follows from it: the rows each gateway renders, where its routes go, the URL
// and the entry the readiness probe asks.
import { describe, expect, it } from 'vitest';
import { environmentUrl, localSite, type Site } from '../../src/domain/index.js';
import { Gateways, routeSettings } from '../../src/registrars/gateways.js';
import { backendTarget } from '../../src/registrars/haproxy-config.js';
import type { HaproxyGateway } from '../../src/registrars/haproxy-gateway.js';
import { PerSite } from '../../src/registrars/per-site.js';
import { ReadinessProbe, readySites } from '../../src/registrars/readiness.js';
import { makeEnv } from '../support/env.js';

const site = (name: string, extra: Partial<Site> = {}): Site => ({
  ...localSite(),
  name,
  ...extra,
});
const OWN = {
  container: 'gw-b',
  configPath: '/usr/local/etc/haproxy/haproxy.cfg',
  baseDomain: 'b.example',
  httpPort: 8080,
};
const SITES = [site('a', { address: '10.0.0.1' }), site('b', { gateway: OWN })];

describe('per site', () => {
  it("serves a site from its own place, else from the devops side's, else from none", () => {
    const places = new PerSite<string>('devops', [['b', 'b-own']]);
    expect([places.of('a'), places.of('b'), places.of(undefined)]).toEqual([
      'devops',
      'b-own',
      'devops',
    ]);
    expect([places.keyOf('a'), places.keyOf('b')]).toEqual([null, 'b']);
    expect(places.all()).toEqual([
      { site: null, value: 'devops' },
      { site: 'b', value: 'b-own' },
    ]);
    const none = new PerSite<string>(null, [['b', 'b-own']]);
    expect([none.of('a'), none.keyOf('a'), none.keyOf('b')]).toEqual([null, undefined, 'b']);
  });

  it('renders each gateway from its own rows, routed to the clusters beside it', () => {
    const gateways = new Gateways({} as HaproxyGateway, [['b', {} as HaproxyGateway]]);
    const rows = [
      { ...makeEnv('a1'), site: 'a' },
      { ...makeEnv('b1', { httpPort: 18091 }), site: 'b' },
      { ...makeEnv('b2', { httpPort: 18092 }), site: 'b' },
      { ...makeEnv('l1', { httpPort: 18093 }), site: 'local' },
    ];
    expect(gateways.rowsOf('b', rows).map((r) => r.name)).toEqual(['b1', 'b2']);
    expect(gateways.rowsOf(undefined, rows).map((r) => r.name)).toEqual(['a1', 'l1']);
    expect(gateways.rowsOf('a', rows).map((r) => r.name)).toEqual(['a1', 'l1']);
    const settingsOf = routeSettings(SITES, '192.168.1.5');
    expect(rows.map((r) => backendTarget(r, settingsOf(r.site)))).toEqual([
      '10.0.0.1:18090',
      '127.0.0.1:18091',
      '127.0.0.1:18092',
      '192.168.1.5:18093',
    ]);
  });

  it("names an environment under its site's domain, through its site's gateway", () => {
    const urls = {
      baseDomain: 'dev.example',
      gatewayPort: 80,
      sites: { b: { baseDomain: 'b.example', gatewayPort: 8080 } },
    };
    const env = { name: 'web', httpPort: 18090, haproxyRoute: true };
    expect(environmentUrl({ ...env, site: 'b' }, urls)).toBe('http://whoami.web.b.example:8080');
    expect(environmentUrl({ ...env, site: 'a' }, urls)).toBe('http://whoami.web.dev.example');
    expect(environmentUrl({ ...env, site: 'b', haproxyRoute: false }, urls)).toBe(
      'http://whoami.web.b.example:18090',
    );
    const probe = new ReadinessProbe({
      timeoutS: 1,
      intervalMs: 10,
      baseDomain: 'dev.example',
      gateway: { host: 'gw.devops', port: 80 },
      clusterHost: '127.0.0.1',
      sites: readySites(SITES),
      argo: null,
    });
    expect(probe.entry(makeEnv('web', { site: 'b' }))).toEqual({
      url: 'http://127.0.0.1:8080/',
      host: 'whoami.web.b.example',
    });
    expect(probe.entry(makeEnv('web', { site: 'a' }))).toEqual({
      url: 'http://gw.devops:80/',
      host: 'whoami.web.dev.example',
    });
    expect(probe.entry(makeEnv('web', { site: 'a', haproxyRoute: false }))).toEqual({
      url: 'http://10.0.0.1:18090/',
      host: 'whoami.web.dev.example',
    });
  });
});
