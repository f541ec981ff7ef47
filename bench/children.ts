// What the guard that makes children die with the bot costs: each child runs under
// `setpriv --pdeathsig KILL` (an exec more), measured as the bot runs children (execa, argument
// arrays) from a small process of its own (bench/children-run.mjs), against the same command run
// bare — a `true` and a `git --version`, 200 of each.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Figure } from './figure.js';

const N = 200;
const RUN = path.resolve(import.meta.dirname, 'children-run.mjs');

export function childFigures(): Figure[] {
  const figures: Figure[] = [];
  for (const argv of [['true'], ['git', '--version']]) {
    const { bare, guarded } = JSON.parse(
      execFileSync(process.execPath, [RUN, String(N), ...argv], {
        encoding: 'utf8',
        cwd: path.resolve(import.meta.dirname, '..'),
      }),
    ) as { bare: number; guarded: number };
    figures.push(
      {
        name: `yardstick: \`${argv.join(' ')}\` as a child of a small node process, median of ${N}`,
        value: bare,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `…under \`setpriv --pdeathsig KILL\` (the guard every child runs under): +${(guarded - bare).toFixed(1)} ms`,
        value: guarded,
        unit: 'ms',
        goal: 'measured',
      },
    );
  }
  return figures;
}
