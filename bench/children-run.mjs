// Run by bench/children.ts in a process of its own: a child's cost depends on the size of the
// process that forks it, and the bench's own (hundreds of MB by then) would be measured instead.
// Prints { bare, guarded } medians (ms) for `node bench/children-run.mjs <N> <command> [args…]`.
import { execa } from 'execa';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [n, command, ...args] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function each(file, argv) {
  const times = [];
  for (let i = 0; i < Number(n); i++) {
    const started = performance.now();
    await execa(file, argv, { stdin: 'ignore' });
    times.push(performance.now() - started);
  }
  return median(times);
}
const guard = ['--pdeathsig', 'KILL', '--', command, ...args];
await each(command, args); // warm
const bare = await each(command, args);
const guarded = await each('setpriv', guard);
process.stdout.write(JSON.stringify({ bare, guarded }));
