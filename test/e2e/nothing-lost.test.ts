// Nothing lost, nothing doubled: three real server processes on one PostgreSQL, the GitHub
// stand-in on loopback, the cluster CLIs as executable fakes. Bursts of comments go to random
// replicas while one of them is SIGKILLed at a random moment and started again (20 trials); then
// PostgreSQL refuses connections in the middle of a burst; then GitHub loses the answer to a fifth
// of its writes after doing them; then a secondary rate limit holds. Every command must be answered
// exactly once: each create made once, with one status comment and one check run that end saying
// it succeeded and one 🚀, each read-only command with one reply — and no write sent while a
// limit GitHub set holds, on any replica. Takeover times go to the log (and bench/results.md). A
// burst of 30 creates with a replica killed in its middle makes each cluster once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/db.js';
import type { Fakes } from '../support/fakes.js';
import { appProcessEnv, deliverComment, startAppWorld } from '../support/app-process.js';
import type { GitHubServer } from '../support/github-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const SECRET = 'nothing-lost-secret';
const REPO = 'acme/envs';
const LEASE_MS = 5_000;
/** Kill trials (20; fewer when debugging). */
const TRIALS = Number(process.env.KINDLER_KILL_TRIALS ?? 20);

let fakes: Fakes;
let tmp: string;
let db: TestDatabase;
let client: pg.Client;
let github: GitHubServer;
let env: Record<string, string>;
let world: Awaited<ReturnType<typeof startAppWorld>>;
const servers: ServerProcess[] = [];
let ids = 500_000;

/** What was asked, to be checked at the end. */
interface Asked {
  issue: number;
  comment: number;
  line: string;
  /** The environment a create makes, or null for a read-only command. */
  creates: string | null;
}
const asked: Asked[] = [];

beforeAll(async () => {
  world = await startAppWorld({ repo: REPO, secret: SECRET, baseDomain: 'lost.test' });
  ({ fakes, github, tmp } = world);
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  // The outage below ends this connection too: the test connects again after it.
  client.on('error', () => undefined);
  await client.connect();
  env = {
    ...appProcessEnv(world),
    KINDLER_LEASE_MS: String(LEASE_MS),
    KINDLER_GITHUB_WRITE_GAP_MS: '20',
    KINDLER_WORKER_CONCURRENCY: '4',
    DATABASE_URL: db.url,
    LOG_LEVEL: 'info',
  };
  // Steps long enough for a kill to land in the middle of one.
  for (const prefix of ['k3d', 'docker']) fakes.fail(prefix, { delayMs: 150 });
  for (let i = 0; i < 3; i++) servers.push(await start(i));
}, 180_000);

afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL').catch(() => undefined);
  await client?.end();
  await db?.drop();
  await world?.close();
});

function start(i: number): Promise<ServerProcess> {
  return startServerProcess({ ...env, KINDLER_DATA_DIR: path.join(tmp, `data-${i}`) });
}

/** A comment as GitHub delivers it, to a random live replica; sent again (same id) if refused. */
async function deliver(issue: number, line: string, creates: string | null): Promise<void> {
  const comment = ++ids;
  asked.push({ issue, comment, line, creates });
  const delivery = crypto.randomUUID();
  for (let attempt = 0; ; attempt++) {
    const server = servers[Math.floor(Math.random() * servers.length)]!;
    const res = await deliverComment(server.base, world, {
      issue,
      commentId: comment,
      line,
      delivery,
    });
    // GitHub redelivers what was not answered 2xx; a test gives up after a while.
    if (res && res.status < 300) return;
    if (attempt > 50) throw new Error(`delivery of "${line}" never accepted`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A burst: `creates` environments and as many `/env status` commands, spread over issues. */
async function burst(tag: string, creates: number): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let i = 0; i < creates; i++) {
    const name = `${tag}-${i}`;
    sends.push(deliver(1000 + asked.length, `/env create ${name}`, name));
    sends.push(deliver(1000 + asked.length, `/env status ${name}`, null));
  }
  await Promise.all(sends);
}

interface Shown {
  operations: number;
  status: string | null;
  statusComments: number;
  says: string | undefined;
  checkRuns: number;
  concluded: unknown;
  reactions: string[];
  replies: number;
}

/** What GitHub and the database show for one command. */
async function shown(a: Asked): Promise<Shown> {
  const ops = a.creates
    ? (
        await client.query<{ id: number; status: string }>(
          `select id, status from operations where cluster_name = $1 and operation = 'create'`,
          [a.creates],
        )
      ).rows
    : [];
  const op = ops[0];
  const marker = op ? `<!-- kindler:operation:${op.id} -->` : null;
  const statusComments = marker
    ? github.comments.filter((c) => c.issue === a.issue && c.body.startsWith(marker))
    : [];
  const runs = a.creates
    ? github.checkRuns.filter((r) => r.name === `kindler/create ${a.creates}`)
    : [];
  return {
    operations: ops.length,
    status: op?.status ?? null,
    statusComments: statusComments.length,
    says: statusComments[0]?.body.split('\n')[1],
    checkRuns: runs.length,
    concluded: runs[0]?.updates.at(-1)?.conclusion,
    reactions: github.reactions
      .filter((r) => r.commentId === a.comment)
      .map((r) => r.content)
      .sort(),
    // One issue per command: every comment there but a status comment is the reply.
    replies: github.comments.filter(
      (c) => c.issue === a.issue && !c.body.startsWith('<!-- kindler:operation:'),
    ).length,
  };
}

const expected = (a: Asked): Shown =>
  a.creates
    ? {
        operations: 1,
        status: 'success',
        statusComments: 1,
        says: `### \`create ${a.creates}\` — 🚀 succeeded`,
        checkRuns: 1,
        concluded: 'success',
        reactions: ['eyes', 'rocket'],
        replies: 0,
      }
    : {
        operations: 0,
        status: null,
        statusComments: 0,
        says: undefined,
        checkRuns: 0,
        concluded: undefined,
        reactions: ['eyes'],
        replies: 1,
      };

/** Waits until every command asked so far shows its final answer, then checks nothing doubled. */
async function allAnswered(timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(asked.map(async (a) => ({ a, s: await shown(a) })));
    const wrong = states.filter(({ a, s }) => JSON.stringify(s) !== JSON.stringify(expected(a)));
    // A double never goes away: fail at once when one is seen.
    const doubled = states.filter(
      ({ s }) => s.operations > 1 || s.statusComments > 1 || s.checkRuns > 1 || s.replies > 1,
    );
    expect(doubled.map(({ a, s }) => ({ line: a.line, ...s }))).toEqual([]);
    if (wrong.length === 0) return;
    // An operation that ended failed or cancelled never comes right by waiting: say so at once.
    const ended = wrong.filter(({ s }) => s.status === 'failed' || s.status === 'cancelled');
    if (ended.length > 0 || Date.now() > deadline) {
      const outputs = servers.map((s) => s.output().slice(-3_000)).join('\n----\n');
      expect(
        (ended.length ? ended : wrong).map(({ a, s }) => ({ line: a.line, issue: a.issue, ...s })),
        `commands not answered as they should be\n${outputs}`,
      ).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('nothing lost, nothing doubled', () => {
  it(`${TRIALS} trials: a burst across three replicas, one SIGKILLed at a random moment and started again`, async () => {
    const takeovers: number[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      const sending = burst(`k${trial}`, 2);
      await new Promise((r) => setTimeout(r, Math.random() * 1_500));
      const victim = Math.floor(Math.random() * servers.length);
      const dead = servers[victim]!;
      const pid = dead.child.pid!;
      await dead.stop('SIGKILL');
      const killedAt = Date.now();
      // What the dead one held: taken over by another replica within the lease and a little.
      const held = (
        await client.query<{ id: number }>(
          `select id from operations where status = 'running' and lease_owner like $1`,
          [`%:${pid}`],
        )
      ).rows.map((r) => r.id);
      const restarted = start(victim);
      if (held.length) {
        for (;;) {
          const still = await client.query(
            `select 1 from operations where id = any($1) and status = 'running' and lease_owner like $2`,
            [held, `%:${pid}`],
          );
          if (still.rowCount === 0) break;
          expect(Date.now() - killedAt, 'takeover').toBeLessThan(60_000);
          await new Promise((r) => setTimeout(r, 100));
        }
        takeovers.push(Date.now() - killedAt);
      }
      servers[victim] = await restarted;
      await sending;
    }
    await allAnswered();
    console.log(
      `kill trials: ${asked.length} commands, takeovers (ms) ${takeovers.join(', ') || 'none needed'}`,
    );
    // Bounded by the lease: the dead worker's lease runs out, the queue notices its silent job.
    for (const t of takeovers) expect(t).toBeLessThan(LEASE_MS * 4);
  }, 900_000);

  it('a burst of 30 creates across three replicas, one SIGKILLed in the middle: each cluster made once, every report final', async () => {
    const times = path.join(fakes.stateDir, 'times.log');
    const before = fs.existsSync(times) ? fs.readFileSync(times, 'utf8').split('\n').length : 0;
    const sending = burst('big', 30);
    // In the middle of it: operations are running on every replica.
    await new Promise((r) => setTimeout(r, 2_000));
    const victim = Math.floor(Math.random() * servers.length);
    await servers[victim]!.stop('SIGKILL');
    servers[victim] = await start(victim);
    await sending;
    await allAnswered();
    const names = Array.from({ length: 30 }, (_, i) => `big-${i}`);
    // Each cluster exists once, and one `k3d cluster create` ran to its end for it (a create
    // killed with its replica dies with it and never finishes: its taker's is the one).
    const clusters = Object.keys(fakes.state().k3d).filter((n) => n.startsWith('big-'));
    expect(clusters.sort()).toEqual([...names].sort());
    const finished = fs
      .readFileSync(times, 'utf8')
      .split('\n')
      .slice(Math.max(0, before - 1))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; args: string[] })
      .filter((c) => c.tool === 'k3d' && c.args[0] === 'cluster' && c.args[1] === 'create')
      .map((c) => c.args[2]);
    for (const name of names)
      expect(
        finished.filter((n) => n === name),
        name,
      ).toHaveLength(1);
  }, 600_000);

  it('PostgreSQL refusing connections in the middle of a burst loses nothing, and live events come back', async () => {
    // A live page open on one replica.
    const stream = await fetch(`${servers[0]!.base}/kindler/api/events`);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let seen = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        seen += new TextDecoder().decode(value);
      }
    })();
    const name = new URL(db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const sending = burst('pgdown', 3);
    await new Promise((r) => setTimeout(r, 800));
    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [name],
    );
    await new Promise((r) => setTimeout(r, 5_000));
    await admin.query(`alter database ${name} allow_connections true`);
    await admin.end();
    await client.end().catch(() => undefined);
    client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    await sending;
    // The page is told to read itself again, and events flow again.
    const resynced = Date.now();
    while (!seen.includes('event: resync')) {
      expect(Date.now() - resynced, `no resync event; stream so far:\n${seen}`).toBeLessThan(
        30_000,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    await deliver(1999, '/env create after-outage', 'after-outage');
    while (!/event: operation\ndata: [^\n]*"after-outage"/.test(seen)) {
      expect(Date.now() - resynced, 'no live event after the outage').toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    await reader.cancel();
    await allAnswered();
  }, 600_000);

  it('GitHub losing the answer to a fifth of its writes after doing them doubles nothing', async () => {
    github.failAfterWrite = 0.2;
    try {
      await burst('lossy', 4);
      await allAnswered();
    } finally {
      github.failAfterWrite = 0;
    }
  }, 600_000);

  it('a secondary rate limit with retry-after: no replica writes while it holds, and all is answered after', async () => {
    // The next write arms it: 4 s from GitHub's first refusal, told to every replica that asks.
    const limit: NonNullable<GitHubServer['limit']> = { retryAfterSeconds: 4, graceMs: 1_000 };
    github.limit = limit;
    const sending = burst('limited', 3);
    while (limit.until === undefined) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.max(0, (limit.until ?? 0) - Date.now()) + 500));
    expect(github.writesDuringLimit).toEqual([]);
    github.limit = null;
    await sending;
    await allAnswered();
  }, 600_000);
});
