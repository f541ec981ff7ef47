// An operation's reporter is bound to it from the moment it is recorded, on both backends, as the
// real server runs: eight `/env create`s at once (recorded, enqueued in the same transaction and
// taken by a worker while their status comments are still being posted) each end with one status
// comment saying how it ended, one concluded check run and one reaction; and a server killed while
// GitHub was taking a check run leaves nothing stuck at "queued" — the next process finishes the
// reports without posting anything twice; a `/env check` whose server was killed while running it
// is run by the next one and answered once. GitHub is the stand-in on loopback (every request checked
// against its description); the cluster CLIs are the executable fakes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { appProcessEnv, deliverComment, startAppWorld } from '../support/app-process.js';
import type { GitHubServer } from '../support/github-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'race-webhook-secret';
const REPO = 'acme/envs';

describe.each(['postgres', 'pglite'] as const)('reports on %s', (backend) => {
  let db: TestDatabase | null = null;
  let github: GitHubServer;
  let server: ServerProcess;
  let env: Record<string, string>;
  let world: Awaited<ReturnType<typeof startAppWorld>>;
  let ids = 90_000;

  beforeAll(async () => {
    world = await startAppWorld({ repo: REPO, secret: SECRET, baseDomain: 'race.test' });
    ({ github } = world);
    if (backend === 'postgres') db = await createTestDatabase();
    env = {
      ...appProcessEnv(world),
      KINDLER_LEASE_MS: '3000',
      KINDLER_GITHUB_WRITE_GAP_MS: '100',
      KINDLER_WORKER_CONCURRENCY: '4',
      LOG_LEVEL: 'info',
      ...(db ? { DATABASE_URL: db.url } : { KINDLER_DB: 'pglite' }),
    };
    server = await startServerProcess(env);
  }, 120_000);
  afterEach(() => {
    expect(github.violations.splice(0), 'requests GitHub would refuse').toEqual([]);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    await world?.close();
  });

  /** `/env <line>` on issue `issue`, as GitHub delivers it. */
  async function comment(issue: number, line: string) {
    const id = ++ids;
    const res = (await deliverComment(server.base, world, { issue, commentId: id, line }))!;
    expect(res.status, await res.text()).toBeLessThan(300);
    return id;
  }

  const waitFor = <T>(what: string, probe: () => Promise<T | null | undefined | false> | T) =>
    waitUntil(what, probe, {
      timeoutMs: 150_000,
      context: async () =>
        `${(await operations().catch(() => []))
          .map(
            (o) =>
              `${o.envName} ${o.status} ${o.steps.map((s) => `${s.step}:${s.status}:${s.startedAt?.slice(14, 19) ?? ''}-${s.completedAt?.slice(14, 19) ?? ''}`).join(' ')}`,
          )
          .join(
            '\n',
          )}\nserver (exit ${server.child.exitCode ?? server.child.signalCode ?? 'none'}):\n${server.output().slice(-6_000)}`,
    });
  const operations = async () =>
    (
      (await (await fetch(`${server.base}/kindler/api/operations?limit=1000`)).json()) as {
        operations: {
          id: number;
          envName: string;
          status: string;
          steps: {
            step: string;
            status: string;
            startedAt: string | null;
            completedAt: string | null;
          }[];
        }[];
      }
    ).operations;

  /** What GitHub shows for one operation asked for on `issue` by comment `asked`. */
  function shown(op: { id: number; envName: string }, issue: number, asked: number) {
    const marker = `<!-- kindler:operation:${op.id} -->`;
    const statusComments = github.comments.filter(
      (c) => c.issue === issue && c.body.startsWith(marker),
    );
    const runs = github.checkRuns.filter((r) => r.name === `kindler/create ${op.envName}`);
    return {
      statusComments: statusComments.length,
      says: statusComments[0]?.body.split('\n')[1],
      checkRuns: runs.length,
      concluded: runs[0]?.updates.at(-1)?.conclusion,
      reactions: github.reactions
        .filter((r) => r.commentId === asked)
        .map((r) => r.content)
        .sort(),
    };
  }
  /** Every report at its end: the check run concluded, the 🚀, and the status comment's last edit. */
  const done = (op: { id: number; envName: string }, issue: number, asked: number) => {
    const now = shown(op, issue, asked);
    return (
      now.concluded !== undefined &&
      now.reactions.includes('rocket') &&
      /— (🚀 succeeded|.*failed)/.test(now.says ?? '')
    );
  };

  it('eight creates at once: each has one status comment, one check run and one reaction, all saying it succeeded', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `race${i + 1}`);
    const asked = await Promise.all(
      names.map((name, i) => comment(200 + i, `/env create ${name}`)),
    );
    const ops = await waitFor('eight successful creates', async () => {
      const ops = (await operations()).filter((o) => names.includes(o.envName));
      return ops.length === 8 && ops.every((o) => o.status === 'success') ? ops : null;
    });
    for (const [i, name] of names.entries()) {
      const op = ops.find((o) => o.envName === name)!;
      await waitFor(`the reports of ${name}`, () => done(op, 200 + i, asked[i]!));
      expect(shown(op, 200 + i, asked[i]!), name).toEqual({
        statusComments: 1,
        says: `### \`create ${name}\` — 🚀 succeeded`,
        checkRuns: 1,
        concluded: 'success',
        reactions: ['eyes', 'rocket'],
      });
    }
  }, 240_000);

  it('a server killed while GitHub takes a check run: the next one finishes the reports, posting nothing twice', async () => {
    let release: () => void = () => undefined;
    github.holds.push({
      match: /^POST \/repos\/acme\/envs\/check-runs$/,
      until: new Promise<void>((r) => (release = r)),
    });
    const asked = await comment(300, '/env create killed1');
    // The check run has been created at GitHub; the bot never hears its id.
    await waitFor('the check run to reach GitHub', () =>
      github.checkRuns.some((r) => r.name === 'kindler/create killed1'),
    );
    await server.stop('SIGKILL');
    github.holds.splice(0);
    release();
    server = await startServerProcess(env);
    const op = await waitFor('the create to succeed', async () =>
      (await operations()).find((o) => o.envName === 'killed1' && o.status === 'success'),
    );
    await waitFor('its reports', () => done(op, 300, asked));
    expect(shown(op, 300, asked)).toEqual({
      statusComments: 1,
      says: '### `create killed1` — 🚀 succeeded',
      checkRuns: 1,
      concluded: 'success',
      reactions: ['eyes', 'rocket'],
    });
  }, 180_000);

  it('a consistency request outlives the server that was running it, and is answered once', async () => {
    let release: () => void = () => undefined;
    github.holds.push({
      match: /^POST \/repos\/acme\/envs\/check-runs$/,
      until: new Promise<void>((r) => (release = r)),
    });
    await comment(400, '/env check');
    await waitFor('the check to publish its check run', () =>
      github.checkRuns.some((r) => r.name === 'kindler/consistency'),
    );
    await server.stop('SIGKILL');
    github.holds.splice(0);
    release();
    server = await startServerProcess(env);
    const answers = () =>
      github.comments.filter((c) => c.issue === 400 && c.body.startsWith('> /env check'));
    await waitFor('the answer to /env check', () => answers().length > 0);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(answers()).toHaveLength(1);
    expect(answers()[0]!.body).toMatch(/Consistent|difference/);
  }, 180_000);
});
