// `npm run bench`: prints a figure table and writes it to bench/results.md. Timing goals live
// here, never in tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withPgliteStore, withPostgresStore } from '../test/support/db.js';
import type { Figure } from './figure.js';
import { checkProcessFigures } from './check-process.js';
import { serverLoadFigures } from './server-load.js';
import { consistencyFigures } from './consistency.js';
import { defaultSetupFigures } from './default-setup.js';
import { floorFigures } from './floor.js';
import { githubCallsPerBranch } from './github-calls.js';
import { lifecycleOverhead } from './lifecycle.js';
import { apiRequestsPerCreate, webhookFigures } from './webhook.js';
import { bootstrapFigures } from './bootstrap.js';
import { githubWriteFigures } from './github-writes.js';
import { versionFigures } from './versions.js';
import { roundTripFigures } from './round-trips.js';
import { createProcessFigures } from './create-process.js';
import { childFigures } from './children.js';

const figures: Figure[] = [];
for (const [label, open] of [
  ['PostgreSQL', withPostgresStore],
  ['PGlite', withPgliteStore],
] as const) {
  const { store, cleanup } = await open();
  try {
    figures.push(...(await lifecycleOverhead(label, store, 50)));
  } finally {
    await cleanup();
  }
}
figures.push(...(await githubCallsPerBranch()));
figures.push(...(await webhookFigures(500)));
figures.push(...(await apiRequestsPerCreate()));
figures.push(...(await consistencyFigures(1000, 5)));
figures.push(...(await checkProcessFigures(1000, 5000)));
figures.push(...(await serverLoadFigures(10_000)));
figures.push(...(await defaultSetupFigures()));
figures.push(...(await floorFigures()));
figures.push(...(await bootstrapFigures()));
figures.push(...(await githubWriteFigures()));
figures.push(...(await versionFigures()));
figures.push(...(await roundTripFigures()));
figures.push(...(await createProcessFigures()));
figures.push(...childFigures());

const rows = figures.map(
  (f) =>
    `| ${f.name} | ${Number.isInteger(f.value) ? f.value : f.value.toFixed(1)} ${f.unit} | ${f.goal} |`,
);
const table = ['| figure | value | goal |', '|---|---|---|', ...rows].join('\n');
const header = `# Benchmarks\n\nMeasured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.\n\n`;
// The store candidates' table (bench/store-candidates.mjs, run by hand with the candidates
// installed aside) is kept below the figures.
// So is the sites' (bench/sites.ts, `npm run bench:sites`).
const kept = ['sites.md', 'store-candidates.md']
  .map((f) => path.resolve(import.meta.dirname, f))
  .filter((f) => fs.existsSync(f))
  .map((f) => `\n${fs.readFileSync(f, 'utf8')}`)
  .join('');
fs.writeFileSync(path.resolve(import.meta.dirname, 'results.md'), `${header}${table}\n${kept}`);
process.stdout.write(`${table}\n\nwritten to bench/results.md\n`);
