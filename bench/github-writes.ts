// GitHub writes per operation and the intake's latency under a steady stream, measured against a
// real server process (npm start's entry), the GitHub stand-in on loopback and the fake CLIs:
// - a burst of 50 `/env create`s: writes to GitHub per operation (every POST and PATCH the
//   stand-in received, over the operations), against the design's minimum;
// - a soak: one comment a second (`/env status`, and every fifth a create) for SOAK_SECONDS
//   (default 600): 👀 latency p50/p99, the deliveries still waiting at the end, the server's RSS
//   and the sizes of webhook_deliveries and github_writes at the start and the end, kept for two
//   minutes here (pruned by the outbox's pass each minute) so that they can be seen level.
import pg from 'pg';
import { createTestDatabase } from '../test/support/db.js';
import { appProcessEnv, deliverComment, startAppWorld } from '../test/support/app-process.js';
import { startServerProcess } from '../test/support/server-process.js';
import type { Figure } from './figure.js';

const SECRET = 'bench-secret';
const REPO = 'acme/envs';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

export async function githubWriteFigures(
  burst = 50,
  soakSeconds = Number(process.env.SOAK_SECONDS ?? 600),
): Promise<Figure[]> {
  const world = await startAppWorld({ repo: REPO, secret: SECRET, baseDomain: 'bench.test' });
  const { github } = world;
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const server = await startServerProcess({
    ...appProcessEnv(world),
    KINDLER_WORKER_CONCURRENCY: '8',
    // The stand-in sets no limit: measured is the bot, not GitHub's pacing (see docs).
    KINDLER_GITHUB_WRITE_GAP_MS: '0',
    // Two minutes' retention, so a soak shows the tables pruned to a level (a minute's pass).
    KINDLER_DELIVERIES_KEEP_DAYS: String(120 / 86_400),
    KINDLER_WRITES_KEEP_DAYS: String(120 / 86_400),
    DATABASE_URL: db.url,
    LOG_LEVEL: process.env.BENCH_VERBOSE ? 'debug' : 'warn',
  });
  let ids = 1;
  const comment = async (issue: number, line: string) => {
    const id = ++ids;
    const res = await deliverComment(server.base, world, { issue, commentId: id, line });
    if (!res || res.status >= 300) throw new Error(`webhook answered ${res?.status ?? 'nothing'}`);
    return { id, at: Date.now() };
  };
  const count = async (sql: string) => Number((await client.query(sql)).rows[0]?.n ?? 0);
  const figures: Figure[] = [];
  try {
    // The burst.
    const before = github.writeTimes.length;
    await Promise.all(
      Array.from({ length: burst }, (_, i) => comment(10_000 + i, `/env create w${i}`)),
    );
    const deadline = Date.now() + 600_000;
    for (;;) {
      const done = await count(
        `select count(*)::int as n from operations where status in ('success', 'failed')`,
      );
      const rockets = github.reactions.filter((r) => r.content !== 'eyes').length;
      if (done >= burst && rockets >= burst) break;
      if (Date.now() > deadline) throw new Error(`burst not done: ${done} of ${burst}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Edits still on their way settle.
    await new Promise((r) => setTimeout(r, 3_000));
    const writes = github.writeTimes.length - before;
    figures.push({
      name: `GitHub writes per create, burst of ${burst} (👀, status comment, check run, their edits, 🚀)`,
      value: writes / burst,
      unit: 'writes',
      goal: '≤ 7 (minimum 6: 👀, comment, check run, their final edits, 🚀)',
    });
    // The soak.
    const rss0 = server.rss();
    const sizes = async () => ({
      deliveries: await count('select count(*)::int as n from webhook_deliveries'),
      writes: await count('select count(*)::int as n from github_writes'),
    });
    const start = await sizes();
    const latencies: number[] = [];
    const pending = new Map<number, number>();
    const soakEnd = Date.now() + soakSeconds * 1000;
    let n = 0;
    while (Date.now() < soakEnd) {
      const tick = Date.now();
      n++;
      const line = n % 5 === 0 ? `/env create s${n}` : `/env status w${n % burst}`;
      const { id, at } = await comment(20_000 + n, line);
      pending.set(id, at);
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - tick))));
    }
    // Every 👀 of the soak, when GitHub got it.
    await new Promise((r) => setTimeout(r, 10_000));
    for (const r of github.reactions)
      if (r.content === 'eyes' && pending.has(r.commentId))
        latencies.push(r.at - (pending.get(r.commentId) as number));
    const waiting = await count(
      `select count(*)::int as n from pgboss.job where name = 'kindler-webhooks' and state in ('created', 'retry', 'active')`,
    );
    const end = await sizes();
    figures.push(
      {
        name: `soak ${soakSeconds} s at 1 comment/s: 👀 p50`,
        value: percentile(latencies, 50),
        unit: 'ms',
        goal: '—',
      },
      {
        name: `soak: 👀 p99 (${latencies.length} of ${n} given within 10 s of the end)`,
        value: percentile(latencies, 99),
        unit: 'ms',
        goal: '< 10000',
      },
      { name: 'soak: deliveries waiting at the end', value: waiting, unit: '', goal: 'bounded' },
      {
        name: `soak: server RSS at the end (${Math.round(rss0 / 2 ** 20)} MiB after the burst)`,
        value: server.rss() / 2 ** 20,
        unit: 'MiB',
        goal: 'flat',
      },
      {
        name: `soak: webhook_deliveries rows, start → end (${start.deliveries} →)`,
        value: end.deliveries,
        unit: 'rows',
        goal: 'flat (2 minutes kept here)',
      },
      {
        name: `soak: github_writes rows, start → end (${start.writes} →)`,
        value: end.writes,
        unit: 'rows',
        goal: 'flat (2 minutes kept here)',
      },
    );
  } finally {
    if (process.env.BENCH_VERBOSE) process.stderr.write(server.output());
    await server.stop();
    await client.end();
    await db.drop();
    await world.close();
  }
  return figures;
}

// Run alone: `npx tsx bench/github-writes.ts` (SOAK_SECONDS to shorten the soak).
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await githubWriteFigures())
    process.stdout.write(`${f.name}: ${f.value.toFixed(1)} ${f.unit} (goal ${f.goal})\n`);
}
