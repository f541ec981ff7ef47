// Sites declared in the config repository's .github/kindler.yml, end to end: two server processes
// (the app, on one PostgreSQL) against the GitHub stand-in, a Docker endpoint on this machine for
// the declared site (a unix socket the stand-in CLIs reach through DOCKER_HOST). A push to the
// default branch touching the file is read by the process it reaches and answered with a
// `kindler/sites` check run on the pushed commit; the other process, and every CLI call, place on
// the declared sites without a restart. A declaration that is invalid, or that drops a site still
// holding environments, is refused with why, and the sites stay as they were.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqlStore } from '../../src/store/sql-store.js';
import { PgDb } from '../../src/store/pg-db.js';
import {
  appProcessEnv,
  deliverComment,
  deliverPush,
  startAppWorld,
} from '../support/app-process.js';
import { cliChild } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'sites-webhook-secret';
const REPO = 'acme/envs';
const FILE = '.github/kindler.yml';

describe('sites declared in the config repository', () => {
  let world: Awaited<ReturnType<typeof startAppWorld>>;
  let db: TestDatabase;
  let store: SqlStore;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;
  let socket: net.Server;
  let ids = 70_000;
  let shas = 0;
  const host = () => `unix://${path.join(world.tmp, 'eu-1.sock')}`;
  const sha = () => (++shas).toString(16).padStart(40, 'a');

  beforeAll(async () => {
    world = await startAppWorld({ repo: REPO, secret: SECRET, baseDomain: 'sites.test' });
    db = await createTestDatabase();
    store = new SqlStore(new PgDb(db.url));
    socket = net.createServer((s) => s.end());
    await new Promise<void>((r) => socket.listen(path.join(world.tmp, 'eu-1.sock'), r));
    env = {
      ...appProcessEnv(world),
      DATABASE_URL: db.url,
      KINDLER_READY_TIMEOUT: '0',
      LOG_LEVEL: 'info',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 120_000);
  afterEach(() => {
    expect(world.github.violations.splice(0), 'requests GitHub would refuse').toEqual([]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.close();
    socket?.close();
    await db?.drop();
    await world?.close();
  });

  /** Until `probe` gives something; past 20 s, what both servers said and GitHub's last comments. */
  const waitFor = <T>(what: string, probe: () => Promise<T | null | undefined> | T) =>
    waitUntil(what, probe, {
      timeoutMs: 20_000,
      context: () =>
        `a said:\n${a.output().slice(-3000)}\nb said:\n${b.output().slice(-3000)}\n` +
        `GitHub has:\n${JSON.stringify(world.github.comments.slice(-3), null, 1)}`,
    });

  /** `/env <line>` delivered to `to`; resolves with the environment once its operation ended. */
  async function comment(to: ServerProcess, line: string) {
    const res = (await deliverComment(to.base, world, { issue: 7, commentId: ++ids, line }))!;
    expect(res.status, await res.text()).toBeLessThan(300);
  }

  /** The file at a new commit on main, pushed to `to`; resolves with the check run it answered. */
  async function push(to: ServerProcess, text: string | null, touched = [FILE]) {
    const after = sha();
    world.github.policiesAt[`${REPO}@${after}`] = text;
    if (text === null) delete world.github.policies[REPO];
    else world.github.policies[REPO] = text;
    const res = (await deliverPush(to.base, world, { after, touched }))!;
    expect(res.status, await res.text()).toBeLessThan(300);
    return after;
  }

  const runOn = (after: string) =>
    waitFor(`the check run on ${after}`, () =>
      world.github.checkRuns.find(
        (r) => r.name === 'kindler/sites' && r.updates[0]?.head_sha === after,
      ),
    );

  const ended = (name: string) =>
    waitFor(`${name}'s create to end`, async () => {
      const [op] = await store.listOperations({ envName: name as never });
      return op && ['success', 'failed'].includes(op.status) ? op : null;
    });

  const clustersOn = (): string[] => {
    const file = path.join(
      world.fakes.stateDir,
      `state-${host().replace(/[^A-Za-z0-9]+/g, '_')}.json`,
    );
    if (!fs.existsSync(file)) return [];
    return Object.keys((JSON.parse(fs.readFileSync(file, 'utf8')) as { k3d: object }).k3d).sort();
  };

  const declaring = (sites: string[]) => ['sites:', ...sites.map((s) => `  - ${s}`), ''].join('\n');
  const euSite = () => `{ name: eu-1, docker_host: "${host()}", labels: { region: eu } }`;

  it('a push declaring sites is answered on its commit; the other replica and the CLI place by them', async () => {
    await comment(b, '/env create home1');
    expect((await ended('home1')).status).toBe('success');
    expect((await store.getEnvironment('home1'))?.site).toBe('local');

    // Dropping `local` while home1 is there: refused, and why; nothing changes.
    const dropped = await push(a, declaring([euSite()]));
    const refused = await runOn(dropped);
    expect(refused.updates[0]).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: {
        title: 'Sites refused: the ones declared before stay',
        summary:
          'site local holds 1 environment (home1); delete them before the site is dropped ' +
          'from .github/kindler.yml.',
      },
    });

    const declared = await push(a, declaring(['{ name: local }', euSite()]));
    expect((await runOn(declared)).updates[0]).toMatchObject({
      conclusion: 'success',
      output: { title: 'Sites declared: local, eu-1' },
    });
    // The replica the push did not reach places there too, without a restart.
    await waitFor('b to hear of the sites', () => b.output().includes('sites now: local, eu-1'));
    await comment(b, '/env create far1 --site eu-1');
    expect((await ended('far1')).status).toBe('success');
    expect((await store.getEnvironment('far1'))?.site).toBe('eu-1');
    expect(clustersOn()).toEqual(['far1']);

    // A CLI call reads the declaration from the database.
    const cli = await cliChild(['create', 'far2', '--where', 'region=eu', '--json'], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect((await store.getEnvironment('far2'))?.site).toBe('eu-1');
    expect(clustersOn()).toEqual(['far1', 'far2']);
  });

  it('an invalid declaration is refused with where it is wrong; the sites stay', async () => {
    const bad = await push(b, declaring(['{ name: local }', '{ name: EU_2 }']));
    expect((await runOn(bad)).updates[0]).toMatchObject({
      conclusion: 'failure',
      output: { summary: '.github/kindler.yml: sites.1.name: expected a DNS label.' },
    });
    const yaml = await push(a, 'sites: [ { name: local }');
    expect((await runOn(yaml)).updates[0]?.output).toMatchObject({
      summary: expect.stringMatching(/^\.github\/kindler\.yml is not valid YAML: /),
    });
    // A site whose Portainer's key the bot lacks could not be registered with: refused, and why.
    const keyless = await push(
      a,
      declaring([
        '{ name: local }',
        euSite(),
        '{ name: eu-2, portainer: { url: "https://portainer.eu-2.test:9443" } }',
      ]),
    );
    expect((await runOn(keyless)).updates[0]).toMatchObject({
      conclusion: 'failure',
      output: {
        summary:
          'site eu-2 declares a Portainer (https://portainer.eu-2.test:9443) but ' +
          'PORTAINER_API_KEY_EU_2 is not set. To resolve, set PORTAINER_API_KEY_EU_2 to an API ' +
          'key of that Portainer (docs/sites.md).',
      },
    });
    // A file that is not YAML stops every command until it is fixed (commands/policy.ts): fixed.
    world.github.policies[REPO] = declaring(['{ name: local }', euSite()]);
    await comment(a, '/env create far3 --site eu-1');
    expect((await ended('far3')).status).toBe('success');
    expect((await store.getEnvironment('far3'))?.site).toBe('eu-1');
  });

  it('a push elsewhere, or not touching the file, is not answered; the same sites again are not', async () => {
    const sitesRuns = () => world.github.checkRuns.filter((r) => r.name === 'kindler/sites');
    const before = sitesRuns().length;
    const valid = declaring(['{ name: local }', euSite()]);
    await push(a, valid, ['README.md']);
    await push(a, valid); // what is declared already
    const other = sha();
    const res = (await deliverPush(a.base, world, {
      after: other,
      branch: 'topic',
      touched: [FILE],
    }))!;
    expect(res.status).toBeLessThan(300);
    // Answered pushes end in a check run within a second or two; give these the time to be wrong.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(sitesRuns().slice(before)).toEqual([]);
  });
});
