// What the guard that makes children die with the bot costs: each child runs under
// `setpriv --pdeathsig KILL` (an exec more), measured as the bot runs children (execa, argument
// arrays), against the same command run bare — a `true` and a `git --version`, 200 of each.
import { execa } from 'execa';
import type { Figure } from './figure.js';
import { median } from './process.js';

const N = 200;

async function each(file: string, args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    await execa(file, args, { stdin: 'ignore' });
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function childFigures(): Promise<Figure[]> {
  const guard = ['--pdeathsig', 'KILL', '--'];
  const figures: Figure[] = [];
  for (const [command, args] of [
    ['true', []],
    ['git', ['--version']],
  ] as const) {
    await each(command, [...args]); // warm
    const bare = await each(command, [...args]);
    const guarded = await each('setpriv', [...guard, command, ...args]);
    figures.push(
      {
        name: `yardstick: \`${[command, ...args].join(' ')}\` as a child, median of ${N}`,
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
