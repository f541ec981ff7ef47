// KINDLER_SITES read as the start reads it: a good file, and each bad one refused precisely.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSites } from '../../src/config/sites.js';

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
      },
    ]);
  });

  it('reads each site', () => {
    const sites = loadSites(
      file(
        'sites:\n  - name: eu-1\n    docker_host: ssh://ops@eu-1\n    address: 10.1.0.5\n' +
          '    labels: { region: eu }\n    max_environments: 24\n  - name: lab\n' +
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
      },
      {
        name: 'lab',
        dockerHost: null,
        dockerContext: 'lab',
        address: null,
        labels: {},
        maxEnvironments: null,
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
    ['sites: [', 'KINDLER_SITES ('],
  ])('%j is refused', (text, why) => {
    expect(() => loadSites(file(text))).toThrow(why);
  });
});
