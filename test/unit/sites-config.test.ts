// KINDLER_SITES read as the start reads it: a good file, and each bad one refused precisely.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSites } from '../../src/config/sites.js';
import { atAddress } from '../../src/providers/site-fleet.js';
import { backendTarget } from '../../src/registrars/haproxy-config.js';
import { commandOf } from '../../src/web/api-commands.js';
import { parseArgs } from '../../src/commands/parse.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-sites-config-'));
const file = (text: string) => {
  const f = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(f, text);
  return f;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('KINDLER_SITES', () => {
  it('unset: one local site, as before sites existed', () => {
    expect(loadSites(undefined)).toEqual([
      {
        name: 'local',
        dockerHost: null,
        dockerContext: null,
        address: null,
        labels: {},
        maxEnvironments: null,
        maxCpus: null,
        maxMemoryMib: null,
        nodeSize: { nodeCpus: null, nodeMemoryMib: null },
        ranges: {},
        gateway: null,
        portainer: null,
      },
    ]);
  });

  it('reads each site', () => {
    const sites = loadSites(
      file(
        'sites:\n  - name: eu-1\n    docker_host: ssh://ops@eu-1\n    address: 10.1.0.5\n' +
          '    labels: { region: eu }\n    max_environments: 24\n    node_cpus: 1.5\n' +
          '    node_memory: 2g\n    max_cpus: 24\n    max_memory: 64G\n' +
          '    http_ports: 20090-20999\n    subnet_octets: 50-99\n' +
          '    gateway: { container: haproxy-gw, base_domain: eu-1.dev.example }\n' +
          '    portainer: { url: "https://portainer.eu-1.example:9443", ' +
          'edge_url: "https://edge.eu-1.example" }\n  - name: lab\n' +
          '    docker_context: lab\n',
      ),
    );
    expect(sites).toEqual([
      {
        name: 'eu-1',
        dockerHost: 'ssh://ops@eu-1',
        dockerContext: null,
        address: '10.1.0.5',
        labels: { region: 'eu' },
        maxEnvironments: 24,
        maxCpus: 24,
        maxMemoryMib: 64 * 1024,
        nodeSize: { nodeCpus: 1.5, nodeMemoryMib: 2048 },
        ranges: { http: { from: 20090, to: 20999 }, subnetOctets: { from: 50, to: 99 } },
        gateway: {
          container: 'haproxy-gw',
          configPath: '/usr/local/etc/haproxy/haproxy.cfg',
          baseDomain: 'eu-1.dev.example',
          httpPort: 80,
        },
        portainer: {
          url: 'https://portainer.eu-1.example:9443',
          edgeUrl: 'https://edge.eu-1.example',
        },
      },
      {
        name: 'lab',
        dockerHost: null,
        dockerContext: 'lab',
        address: null,
        labels: {},
        maxEnvironments: null,
        maxCpus: null,
        maxMemoryMib: null,
        nodeSize: { nodeCpus: null, nodeMemoryMib: null },
        ranges: {},
        gateway: null,
        portainer: null,
      },
    ]);
  });

  it.each([
    ['sites: []', 'sites: Too small'],
    ['sites:\n  - name: Eu\n', 'sites.0.name: expected a DNS label'],
    ['sites:\n  - name: a\n    docker_host: http://x\n', 'sites.0.docker_host: expected ssh://'],
    [
      'sites:\n  - name: a\n    docker_host: ssh://x\n    docker_context: y\n',
      'give docker_host or docker_context, not both',
    ],
    ['sites:\n  - name: a\n  - name: a\n', 'sites.1.name: "a" is declared twice'],
    ['sites:\n  - name: a\n    labels: { "bad key": x }\n', 'sites.0.labels: '],
    ['sites:\n  - name: a\n    max_environments: 0\n', 'sites.0.max_environments: '],
    ['sites:\n  - name: a\n    colour: blue\n', 'Unrecognized key'],
    [
      'sites:\n  - name: a\n    node_memory: 100k\n',
      'sites.0.node_memory: expected a size from 256m to 256g (512m, 2g, 1.5g), not "100k"',
    ],
    [
      'sites:\n  - name: a\n    node_cpus: 100\n',
      'sites.0.node_cpus: expected a number of CPUs from 0.1 to 64',
    ],
    [
      'sites:\n  - name: a\n    max_memory: 64g\n',
      'max_memory needs node_memory (the size of a node a create names none for)',
    ],
    ['sites:\n  - name: a\n    max_cpus: 8\n', 'max_cpus needs node_cpus'],
    ['sites:\n  - name: a\n    subnet_octets: 100-300\n', 'subnet octets are 1-254'],
    ['sites:\n  - name: a\n    http_ports: 9000\n', 'expected a range like 18090-18999'],
    ['sites: [', 'KINDLER_SITES ('],
    [
      'sites:\n  - name: a\n    portainer: { url: "ftp://x", api_key: k }\n',
      'sites.0.portainer.url: expected an http:// or https:// URL',
    ],
    [
      'sites:\n  - name: a\n    portainer: { url: "https://p.example", api_key: k }\n',
      'Unrecognized key',
    ],
    [
      'sites:\n  - name: a\n    gateway: { container: gw }\n',
      'sites.0.gateway.base_domain: Invalid input',
    ],
    [
      'sites:\n  - name: a\n    gateway: { container: gw, base_domain: "a b" }\n',
      'sites.0.gateway.base_domain: expected a domain name',
    ],
    [
      'sites:\n  - name: a\n    gateway: { container: gw, base_domain: a.test, config: etc/x }\n',
      'sites.0.gateway.config: expected an absolute path',
    ],
    [
      `sites:\n  - name: a\n    gateway: { container: gw, base_domain: ${'a'.repeat(180)}.test }\n`,
      'sites.0.gateway.base_domain: at most 182 characters',
    ],
  ])('%j is refused', (text, why) => {
    expect(() => loadSites(file(text))).toThrow(why);
  });
});

describe("a site's address", () => {
  it('is where its clusters are reached: the kubeconfig server and the gateway backend', () => {
    const yaml =
      'clusters:\n- cluster:\n    server: https://0.0.0.0:6550\n  name: k3d-dev\n' +
      '- cluster:\n    server: https://dev.example:6443\n  name: other\n';
    expect(atAddress(yaml, '10.1.0.5')).toBe(
      'clusters:\n- cluster:\n    server: https://10.1.0.5:6550\n  name: k3d-dev\n' +
        '- cluster:\n    server: https://dev.example:6443\n  name: other\n',
    );
    const row = {
      name: 'dev',
      haproxyRoute: true,
      serverIp: null,
      nodePort: 30080,
      httpPort: 18090,
    };
    const settings = { backendHost: '127.0.0.1', siteAddresses: { 'eu-1': '10.1.0.5' } };
    expect(backendTarget({ ...row, site: 'eu-1' }, settings)).toBe('10.1.0.5:18090');
    expect(backendTarget({ ...row, site: 'local' }, settings)).toBe('127.0.0.1:18090');
    expect(backendTarget({ ...row, site: 'eu-1', serverIp: '172.18.0.2' }, settings)).toBe(
      '172.18.0.2:30080',
    );
  });
});

describe('node sizes, as each surface reads them', () => {
  it('`--cpus` and `--memory` on /env, and `cpus` and `memory` through the API', () => {
    expect(parseArgs('create dev --cpus 1.5 --memory 2GiB --agents 2'.split(' '))).toMatchObject({
      command: { verb: 'create', nodeCpus: 1.5, nodeMemoryMib: 2048, agents: 2 },
    });
    expect(parseArgs('update dev --memory 1536m'.split(' '))).toMatchObject({
      command: { verb: 'update', patch: { nodeMemoryMib: 1536 } },
    });
    expect(commandOf({ verb: 'create' }, { name: 'dev', cpus: 2, memory: '4g' })).toMatchObject({
      verb: 'create',
      nodeCpus: 2,
      nodeMemoryMib: 4096,
    });
    expect(() => commandOf({ verb: 'create' }, { name: 'dev', cpus: '2' })).toThrow(
      '"cpus" must be a number (CPUs per node)',
    );
  });

  it.each([
    [
      'create dev --cpus 0',
      '`--cpus` takes a number of CPUs from 0.1 to 64 (1, 1.5, 0.25), not "0".',
    ],
    ['create dev --cpus 1.555', 'not "1.555"'],
    [
      'create dev --memory 2x',
      '`--memory` takes a size from 256m to 256g (512m, 2g, 1.5g), not "2x".',
    ],
    ['create dev --memory 100m', 'not "100m"'],
    ['update dev --memory 300g', 'not "300g"'],
    ['create dev --memory `x`', 'not "x"'],
  ])('%s is refused', (line, why) => {
    const parsed = parseArgs(line.split(' '));
    expect('message' in parsed ? parsed.message : null).toContain(why);
  });
});

describe('where a create goes, through the API', () => {
  it('reads `site` and `where` as `--site` and `--where`, refused by the same parser', () => {
    expect(
      commandOf({ verb: 'create' }, { name: 'dev', site: 'eu-1', where: { region: 'eu' } }),
    ).toMatchObject({ verb: 'create', name: 'dev', site: 'eu-1', where: { region: 'eu' } });
    expect(() => commandOf({ verb: 'create' }, { name: 'dev', where: 'eu' })).toThrow(
      '"where" must be an object of key: value strings',
    );
    expect(() => commandOf({ verb: 'create' }, { name: 'dev', site: 'EU' })).toThrow(
      'Site `EU` is not a DNS label',
    );
  });
});
