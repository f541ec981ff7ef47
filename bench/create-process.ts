// `kindler create` as a whole process (bin/kindler.js over dist/) on instant stand-ins — the k3d
// CLI fake, a local bare Git repository, an HAProxy config file, PostgreSQL — beside what its
// children cost, read from the stand-ins' own log (each fake and a git shim write when they
// started and how long they ran), and beside `node -e 0`. Once with 10 rows in the table and once
// with 10,000: the growth row says whether a create's cost depends on the table's size.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PgDb } from '../src/store/pg-db.js';
import { renderGateway } from '../src/registrars/haproxy-config.js';
import { SqlStore } from '../src/store/sql-store.js';
import { createTestDatabase } from '../test/support/db.js';
import { setupFakes } from '../test/support/fakes.js';
import type { Figure } from './figure.js';
import { ROOT, benchRows, buildDist, kindler, median, timeProcess } from './process.js';

const RUNS = 7;

interface Child {
  tool: string;
  startedAt: number;
  ms: number;
}

/** `tools` on PATH that log their start (ms since the epoch) and run time, then are the real ones. */
function timingShims(dir: string, log: string, tools: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const tool of tools) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], {
      encoding: 'utf8',
      env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
    }).trim();
    fs.writeFileSync(
      path.join(dir, tool),
      '#!/bin/sh\nstart=$(date +%s%N)\n' +
        `'${real}' "$@"\ncode=$?\nend=$(date +%s%N)\n` +
        `echo "{\\"tool\\":\\"${tool} $1\\",\\"startedAt\\":$((start / 1000000)),\\"ms\\":$(((end - start) / 1000000))}" >> '${log}'\n` +
        'exit $code\n',
      { mode: 0o755 },
    );
  }
  return dir;
}

const readChildren = (file: string): Child[] =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Child)
    : [];

/** What bench/first-child-marks.cjs saw inside the process (ms from its time origin). */
interface Marks {
  js: number;
  connected: number;
  lastAnswer: number;
  answers: number;
  child: number;
}

interface Run {
  wall: number;
  children: number;
  count: number;
  firstChild: number;
  marks: Marks | null;
}

/** A create's figures over its runs: medians, and its own time per run (wall less children). */
const summary = (runs: Run[]) => {
  const pick = (key: 'wall' | 'children' | 'count' | 'firstChild') =>
    median(runs.map((r) => r[key]));
  return {
    wall: pick('wall'),
    children: pick('children'),
    // Each run's own time, then their median: a run whose children were slow is not set against
    // another's wall.
    own: median(runs.map((r) => r.wall - r.children)),
    count: pick('count'),
    firstChild: pick('firstChild'),
  };
};

/** Where a marked run's time before its first child went: each phase the median of its runs. */
const phases = (runs: Run[]) => {
  const marks = runs.map((r) => r.marks as Marks);
  const of = (f: (m: Marks) => number) => median(marks.map(f));
  return {
    js: of((m) => m.js),
    load: of((m) => m.connected - m.js),
    record: of((m) => m.lastAnswer - m.connected),
    answers: of((m) => m.answers),
    render: of((m) => m.child - m.lastAnswer),
    // From before /usr/bin/time started to the process's clock, and from its spawn to the shim.
    outside: median(runs.map((r) => r.firstChild - (r.marks as Marks).child)),
  };
};

/**
 * One table size set up (its database with `rows` rows, a Git repository, a gateway with a route
 * per row): `run` times one create — its wall, its children's summed time, its first child.
 */
export async function createsWith(
  rows: number,
  tmp: string,
  entry: (args: string[]) => string[] = kindler,
  tag = '',
  marked = false,
) {
  const db = await createTestDatabase();
  const fakes = setupFakes();
  const close = async () => {
    fakes.cleanup();
    await db.drop();
  };
  try {
    const store = new SqlStore(new PgDb(db.url));
    await store.migrate();
    const records = benchRows(
      Array.from({ length: rows }, (_, i) => `row-${String(i).padStart(5, '0')}`),
    );
    await store.importRecords(records);
    await store.close();
    const repo = path.join(tmp, `gitops-${rows}${tag}.git`);
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
    const times = path.join(fakes.stateDir, 'times.log');
    const shim = timingShims(path.join(tmp, `shim-${rows}${tag}`), times, ['git', 'haproxy']);
    const haproxy = path.join(tmp, `haproxy-${rows}${tag}.cfg`);
    // The gateway as the rows' creates left it: a route each.
    fs.writeFileSync(
      haproxy,
      renderGateway(
        fs.readFileSync(
          path.resolve(import.meta.dirname, '../test/fixtures/haproxy/haproxy.cfg'),
          'utf8',
        ),
        records.map((r) => ({ ...r, serverIp: null })),
        { backendHost: '127.0.0.1' },
      ),
    );
    const env = {
      ...fakes.env,
      PATH: `${shim}:${fakes.env.PATH}`,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, `data-${rows}${tag}`),
      GIT_REPO_URL: repo,
      BASE_DOMAIN: 'example.test',
      HAPROXY_CONFIG: haproxy,
    };
    const marksFile = path.join(tmp, `marks-${rows}${tag}.json`);
    const marking = marked
      ? {
          NODE_OPTIONS: `--require ${JSON.stringify(path.join(ROOT, 'bench/first-child-marks.cjs'))}`,
          KINDLER_BENCH_MARKS: marksFile,
        }
      : {};
    timeProcess(entry(['create', 'warm-up']), env); // the data dir and the schema made once
    let made = 0;
    const run = (): Run => {
      fs.rmSync(times, { force: true });
      fs.rmSync(marksFile, { force: true });
      const startedAt = performance.timeOrigin + performance.now();
      const { ms } = timeProcess(entry(['create', `bench-${made++}`]), { ...env, ...marking });
      const children = readChildren(times);
      if (children.length === 0) throw new Error('the create ran no child process');
      return {
        wall: ms,
        children: children.reduce((sum, c) => sum + c.ms, 0),
        count: children.length,
        firstChild: Math.min(...children.map((c) => c.startedAt)) - startedAt,
        marks: marked ? (JSON.parse(fs.readFileSync(marksFile, 'utf8')) as Marks) : null,
      };
    };
    return { run, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The floor of any database-first command in Node, as a yardstick for the first child: a process
 * that loads pg, connects, records in one transaction of five statements, then starts a child
 * (`date`, which says when it ran). `run` times one: from its start to its child's.
 */
async function dbFirstFloor(tmp: string) {
  const db = await createTestDatabase();
  const script = path.join(tmp, 'db-first-floor.cjs');
  fs.writeFileSync(
    script,
    `const { Client } = require(${JSON.stringify(path.join(ROOT, 'node_modules/pg'))});\n` +
      '(async () => {\n' +
      '  const c = new Client({ connectionString: process.argv[2] });\n' +
      '  await c.connect();\n' +
      "  for (const q of ['begin', 'create temp table t (a int)', 'insert into t values (1)',\n" +
      "    'select a from t', 'commit']) await c.query(q);\n" +
      "  process.stdout.write(require('node:child_process').execFileSync('date', ['+%s%N']));\n" +
      '  await c.end();\n' +
      '})();\n',
  );
  const run = () => {
    const startedAt = performance.timeOrigin + performance.now();
    const out = execFileSync(process.execPath, [script, db.url], { encoding: 'utf8' });
    return Number(BigInt(out.trim()) / 1_000_000n) - startedAt;
  };
  return { run, close: () => db.drop() };
}

export async function createProcessFigures(): Promise<Figure[]> {
  buildDist();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-create-'));
  try {
    // The same command unbundled: dist/src/cli/main.js, its ~400 modules read one by one (as
    // before scripts/bundle.mjs), with the same compile cache and flags as bin/kindler.js.
    const unbundledEntry = path.join(tmp, 'unbundled.mjs');
    fs.writeFileSync(
      unbundledEntry,
      `import { enableCompileCache } from ${JSON.stringify(path.join(ROOT, 'bin/compile-cache.js'))};\n` +
        'enableCompileCache();\n' +
        `await import(${JSON.stringify(path.join(ROOT, 'dist/src/cli/main.js'))});\n`,
    );
    const setups = [
      await createsWith(10, tmp),
      await createsWith(
        10,
        tmp,
        (args) => [process.execPath, '--max-semi-space-size=2', unbundledEntry, ...args],
        '-unbundled',
      ),
      await createsWith(10_000, tmp),
      await createsWith(10, tmp, kindler, '-marked', true),
    ];
    // node -e 0 alone first (the goal's yardstick, on a machine doing nothing else), then again
    // between the runs, beside the floor, under what the runs leave behind.
    const node = median(
      Array.from({ length: RUNS }, () => timeProcess([process.execPath, '-e', '0']).ms),
    );
    const floorSetup = await dbFirstFloor(tmp);
    // Their runs interleaved with node -e 0's and the floor's, each round in another order: what
    // the machine does meanwhile falls on all of them alike.
    const runs: Run[][] = setups.map(() => []);
    const nodeRuns: number[] = [];
    const floorRuns: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        nodeRuns.push(timeProcess([process.execPath, '-e', '0']).ms);
        floorRuns.push(floorSetup.run());
        for (let k = 0; k < setups.length; k++) {
          const which = (i + k) % setups.length;
          runs[which]!.push(setups[which]!.run());
        }
      }
    } finally {
      for (const setup of [...setups, floorSetup]) await setup.close();
    }
    const nodeBetween = median(nodeRuns);
    const floor = median(floorRuns);
    const [small, unbundled, large] = runs.slice(0, 3).map(summary) as [
      ReturnType<typeof summary>,
      ReturnType<typeof summary>,
      ReturnType<typeof summary>,
    ];
    const inside = phases(runs[3] as Run[]);
    const own = small.own;
    const x = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
    return [
      {
        name: `yardstick: \`node -e 0\`, wall (median of ${RUNS}, alone before the creates)`,
        value: node,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `\`kindler create\`, instant stand-ins, 10 rows, wall (median of ${RUNS})`,
        value: small.wall,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `…its ${small.count} child processes (k3d and docker fakes, git, haproxy -c), summed from their own log`,
        value: small.children,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `…the bot's own time (wall − children; ${Math.round((100 * own) / small.wall)} % of the wall)`,
        value: own,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `…process start to its first child (${x(small.firstChild, node)} node -e 0)`,
        value: small.firstChild,
        unit: 'ms',
        goal: `≤ 2 × node -e 0 (${Math.round(2 * node)} ms)`,
      },
      {
        name: "…inside a create run with marks (bench/first-child-marks.cjs): node's own start, to its first line of JavaScript",
        value: inside.js,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: '…then loading the CLI and reading its configuration, to its database connection',
        value: inside.load,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: `…then recording and claiming the operation: from the connection to its last answer before the child (${inside.answers} answers read)`,
        value: inside.record,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: '…then rendering and checking deploy/ and loading execa, to the child',
        value: inside.render,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: "…and outside the process's clock: /usr/bin/time and node's exec before it, the child's setpriv and timing shim",
        value: inside.outside,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: `yardstick: a database-first floor — node, pg, connect, one transaction of 5 statements, then a child, between the creates (${x(floor, nodeBetween)} \`node -e 0\` between them: ${Math.round(nodeBetween)} ms)`,
        value: floor,
        unit: 'ms',
        goal: 'measured (no command that records before it acts starts its first child sooner)',
      },
      {
        name: `…the same, unbundled (dist/src, each module read apart): its first child (${x(unbundled.firstChild, node)} node -e 0)`,
        value: unbundled.firstChild,
        unit: 'ms',
        goal: 'measured (the bundle above is the installed command)',
      },
      {
        name: `\`kindler create\`, the same with 10,000 rows in the table, wall (its children ${Math.round(large.children)} ms: haproxy -c reads 10,000 routes)`,
        value: large.wall,
        unit: 'ms',
        goal: '—',
      },
      {
        name: "…the bot's own time with 10,000 rows (wall − children)",
        value: large.own,
        unit: 'ms',
        goal: '—',
      },
      {
        name: 'growth: a create with 10,000 rows ÷ with 10, wall',
        value: Math.round((large.wall / small.wall) * 100) / 100,
        unit: '×',
        goal: '—',
      },
      {
        name: "growth: the bot's own time with 10,000 rows ÷ with 10",
        value: Math.round((large.own / own) * 100) / 100,
        unit: '×',
        goal: '≤ 1.2 × (flat)',
      },
    ];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
