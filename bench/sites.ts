// `npm run bench:sites`: what sites cost. The check over 1,000 environments on one site and spread
// over three (each a Docker endpoint the stand-in CLIs reach through DOCKER_HOST: a listing per
// site and provider), and placement: a count and `docker info` through each candidate's
// DOCKER_HOST, in parallel. Writes bench/sites.md, which `npm run bench` keeps below its table.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { localSite, type Site } from '../src/domain/index.js';
import { siteStates } from '../src/lifecycle/placement.js';
import { fleetOf } from '../src/providers/site-fleet.js';
import { setupFakes } from '../test/support/fakes.js';
import { checkProcessFigures } from './check-process.js';
import type { Figure } from './figure.js';
import { median } from './process.js';

const warm = (figures: Figure[]) =>
  figures.find((f) => f.name.includes('wall (median'))?.value ?? Number.NaN;

/** Placement's own time over `n` declared sites (median of `runs`). */
async function placement(n: number, runs = 15): Promise<number> {
  const fakes = setupFakes();
  const restore = fakes.apply();
  const servers: net.Server[] = [];
  try {
    const sites: Site[] = [];
    for (let i = 0; i < n; i++) {
      const socket = path.join(fakes.stateDir, `site-${i}.sock`);
      const server = net.createServer((c) => c.end());
      await new Promise<void>((r) => server.listen(socket, r));
      servers.push(server);
      sites.push({ ...localSite(), name: `site-${i}`, dockerHost: `unix://${socket}` });
    }
    const cli = {
      timeoutMs: 10_000,
      k3dImage: 'k3s',
      kindNodeImage: 'node',
      kindApiServerAddress: '0.0.0.0',
    };
    const fleet = fleetOf(sites, cli, true);
    const counts = Object.fromEntries(
      sites.map((s, i) => [s.name, { environments: 300 + i, cpus: 0, memoryMib: 0 }]),
    );
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const states = await siteStates(fleet, counts, { nodes: 1, size: {} });
      times.push(performance.now() - started);
      if (states.some((s) => s.down)) throw new Error(`a site is down: ${states[0]?.down}`);
    }
    return median(times);
  } finally {
    servers.forEach((s) => s.close());
    restore();
    fakes.cleanup();
  }
}

const one = warm(await checkProcessFigures(1000));
const three = await checkProcessFigures(1000, undefined, 3);
const spread = warm(three);
const figures: Figure[] = [
  {
    name: '`kindler check --json`, 1000 environments on one site, wall (median of 5)',
    value: one,
    unit: 'ms',
    goal: '—',
  },
  ...three,
  {
    name: 'check over 3 sites ÷ over one site',
    value: Math.round((spread / one) * 100) / 100,
    unit: '×',
    goal: '≤ 1.5 ×',
  },
  {
    name: 'placement over 1 declared site (`docker info` through its DOCKER_HOST; the count is one query)',
    value: Math.round((await placement(1)) * 10) / 10,
    unit: 'ms',
    goal: '—',
  },
  {
    name: 'placement over 3 declared sites (`docker info` through each, in parallel)',
    value: Math.round((await placement(3)) * 10) / 10,
    unit: 'ms',
    goal: '—',
  },
];
const shown = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));
const rows = figures.map((f) => `| ${f.name} | ${shown(f.value)} ${f.unit} | ${f.goal} |`);
const text = [
  '## Sites',
  '',
  `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version} (\`npm run bench:sites\`).`,
  '',
  '| figure | value | goal |',
  '|---|---|---|',
  ...rows,
  '',
].join('\n');
fs.writeFileSync(path.resolve(import.meta.dirname, 'sites.md'), text);
process.stdout.write(text);
