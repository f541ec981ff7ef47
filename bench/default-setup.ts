// The default set-up against PostgreSQL, as a new user runs them: `npm start` (bin/start.js, with
// dist/ current) to /readyz, the server's idle memory, and a CLI read (`kindler list`, `kindler
// status`) — wall time and peak RSS of the whole process. The embedded PostgreSQL is measured
// fresh (its initdb included) and running (as after the first start); its own
// memory is counted apart (PSS of the postmaster and its children, shared pages split).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedCluster } from '../src/store/embedded-postgres.js';
import { createTestDatabase } from '../test/support/db.js';
import { removeEmbedded } from '../test/support/embedded.js';
import { setupFakes } from '../test/support/fakes.js';
import type { Figure } from './figure.js';
import { ROOT, buildDist, kindler, median, timeProcess } from './process.js';

const RUNS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kb = (pid: number, field: string, file = 'status'): number => {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/${file}`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return Number(line?.match(/(\d+)/)?.[1] ?? 0);
  } catch {
    return 0;
  }
};
const children = (pid: number): number[] => {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};
/** PSS of a process and all its descendants, in MB. */
function pssOfTree(pid: number): number {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i] as number));
  return all.reduce((sum, p) => sum + kb(p, 'Pss', 'smaps_rollup'), 0) / 1024;
}

/** `npm start` until /readyz answers 200; the server's RSS after 3 s idle. */
async function serverRun(env: Record<string, string>) {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/start.js')], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    let base = '';
    for (;;) {
      base ||= output.match(/listening on (http:\/\/\S+)/)?.[1] ?? '';
      const ok =
        base &&
        (await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        ));
      if (ok) break;
      if (child.exitCode !== null || performance.now() - started > 60_000)
        throw new Error(`the server did not become ready:\n${output}`);
      await sleep(10);
    }
    const readyMs = performance.now() - started;
    await sleep(3_000);
    return { readyMs, rssMb: kb(child.pid as number, 'VmRSS') / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function defaultSetupFigures(): Promise<Figure[]> {
  buildDist();
  const fakes = setupFakes();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-default-'));
  const db = await createTestDatabase();
  const setups = {
    postgres: { ...fakes.env, KINDLER_DATA_DIR: path.join(tmp, 'pg'), DATABASE_URL: db.url },
    embedded: { ...fakes.env, KINDLER_DATA_DIR: path.join(tmp, 'embedded'), DATABASE_URL: '' },
  };
  const fresh: number[] = [];
  const ready = { postgres: [] as number[], embedded: [] as number[] };
  const rss = { postgres: [] as number[], embedded: [] as number[] };
  const pgPss: number[] = [];
  const reads = {
    postgres: { ms: [] as number[], mb: [] as number[] },
    embedded: { ms: [] as number[], mb: [] as number[] },
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      // Fresh: a data dir never used (initdb and the first start included).
      const dir = path.join(tmp, `fresh-${i}`);
      fresh.push((await serverRun({ ...setups.embedded, KINDLER_DATA_DIR: dir })).readyMs);
      await removeEmbedded(dir);
    }
    for (const setup of ['postgres', 'embedded'] as const) {
      for (let i = 0; i < RUNS + 1; i++) {
        const run = await serverRun(setups[setup]);
        if (i === 0) continue; // the first start made the cluster and the schema
        ready[setup].push(run.readyMs);
        rss[setup].push(run.rssMb);
      }
      const env = setups[setup];
      timeProcess(kindler(['create', 'bench1']), env); // what the reads then show
      for (let i = 0; i < RUNS; i++)
        for (const args of [['list'], ['status', 'bench1']]) {
          const r = timeProcess(kindler(args), env);
          reads[setup].ms.push(r.ms);
          reads[setup].mb.push(r.peakMb);
        }
    }
    const { dir } = embeddedCluster(setups.embedded.KINDLER_DATA_DIR);
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    pgPss.push(pssOfTree(pid));
  } finally {
    await removeEmbedded(setups.embedded.KINDLER_DATA_DIR);
    await db.drop();
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const pgReady = median(ready.postgres);
  const readMs = { postgres: median(reads.postgres.ms), embedded: median(reads.embedded.ms) };
  return [
    {
      name: '`npm start` → /readyz, PostgreSQL (median of 3)',
      value: pgReady,
      unit: 'ms',
      goal: '—',
    },
    {
      name: '`npm start` → /readyz, default set-up (its PostgreSQL already running)',
      value: median(ready.embedded),
      unit: 'ms',
      goal: `≤ 1.5 × PostgreSQL (${Math.round(1.5 * pgReady)} ms)`,
    },
    {
      name: '`npm start` → /readyz, default set-up, fresh data dir (initdb included, once)',
      value: median(fresh),
      unit: 'ms',
      goal: '—',
    },
    {
      name: 'server RSS after 3 s idle, PostgreSQL',
      value: median(rss.postgres),
      unit: 'MB',
      goal: '—',
    },
    {
      name: 'server RSS after 3 s idle, default set-up',
      value: median(rss.embedded),
      unit: 'MB',
      goal: '< 200 MB',
    },
    {
      name: '…the embedded PostgreSQL beside it (PSS, all its processes)',
      value: median(pgPss),
      unit: 'MB',
      goal: '—',
    },
    {
      name: 'CLI read (`list`, `status`), PostgreSQL, median wall',
      value: readMs.postgres,
      unit: 'ms',
      goal: '—',
    },
    {
      name: 'CLI read (`list`, `status`), default set-up, median wall',
      value: readMs.embedded,
      unit: 'ms',
      goal: `< 2 × PostgreSQL (${Math.round(2 * readMs.postgres)} ms)`,
    },
    {
      name: 'CLI read, PostgreSQL, peak RSS',
      value: Math.max(...reads.postgres.mb),
      unit: 'MB',
      goal: '—',
    },
    {
      name: 'CLI read, default set-up, peak RSS',
      value: Math.max(...reads.embedded.mb),
      unit: 'MB',
      goal: '< 200 MB',
    },
  ];
}
