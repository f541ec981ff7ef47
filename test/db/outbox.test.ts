// The outbox: every write to GitHub recorded, then sent — redacted, fitted to GitHub's limits,
// retried while the failure may pass, recorded when GitHub refuses, delivered by a later pass when
// it could not be sent now — and an operation's reports rendered from the operation as it is when
// they are sent. On both backends, GitHub behind nock, every request checked against GitHub's
// description.
import nock from 'nock';
import { unmarked } from '../support/github-fixtures.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  command,
  envName,
  Redactor,
  type Operation,
  type Trigger,
} from '../../src/domain/index.js';
import { outboxOver } from '../../src/github/outbox.js';
import type { GitHubClient } from '../../src/github/types.js';
import type { Store } from '../../src/store/store.js';
import { contractProbot, expectNoContractViolations } from '../support/github-contract.js';
import { BACKENDS, type OpenedStore } from '../support/db.js';

const API = 'https://api.github.com';
const R = '/repos/o/r';
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
const trigger: Trigger = {
  source: 'issue_comment',
  actor: 'octocat',
  url: 'https://github.com/o/r/issues/1#issuecomment-99',
  repo: 'o/r',
  issueNumber: 1,
  headSha: 'a'.repeat(40),
};

let octokit: GitHubClient;
beforeAll(async () => {
  nock.disableNetConnect();
  const probot = contractProbot();
  octokit = (await probot.auth()) as never;
});
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  expectNoContractViolations();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe.each(BACKENDS)('the outbox on %s', (_backend, open) => {
  let opened: OpenedStore;
  let store: Store;
  let name = 0;
  beforeAll(async () => {
    opened = await open();
    store = opened.store;
    await store.migrate();
  });
  afterAll(() => opened.cleanup());

  const outbox = (
    options: {
      retryDelaysMs?: number[];
      logged?: string[];
      clientFor?: () => Promise<GitHubClient>;
    } = {},
  ) =>
    outboxOver(
      { store, redactor: new Redactor([TOKEN]), urls: { baseDomain: 'example.test' } as never },
      {
        retryDelaysMs: options.retryDelaysMs ?? [1],
        backoffMs: () => 0,
        log: (_level, message) => options.logged?.push(message),
        ...(options.clientFor ? { clientFor: options.clientFor } : {}),
      },
    );
  /** A failed operation whose error is `error`. */
  async function failedOp(error: string): Promise<Operation> {
    const env = await store.insertEnvironment({
      name: envName(`ob-${++name}`),
      provider: 'k3d',
    });
    const op = await store.createOperation({ envName: env.name, kind: 'create', trigger });
    return store.updateOperation(op.id, {
      status: 'failed',
      failedStep: 'cluster',
      error,
      fixCommand: command('retry', env.name),
      completedAt: new Date(),
    });
  }

  it('posts the status comment, the check run and the reaction, fitted and redacted, and keeps their ids', async () => {
    const op = await failedOp(`k3d exited 1: ${'e'.repeat(150_000)} token=${TOKEN}`);
    const bodies: string[] = [];
    nock(API)
      .post(`${R}/issues/1/comments`, (b) => bodies.push(b.body) > 0)
      .reply(201, { id: 501 })
      .post(`${R}/check-runs`, (b) => bodies.push(b.output.summary) > 0)
      .reply(201, { id: 601 })
      .post(`${R}/issues/comments/99/reactions`, { content: 'confused' })
      .reply(201, {});
    await outbox().report(op, octokit);
    expect(bodies[0]!.length).toBeLessThanOrEqual(65_536);
    expect(bodies[0]).toContain(`<!-- kindler:operation:${op.id} -->`);
    expect(bodies[1]!.length).toBeLessThanOrEqual(65_535);
    for (const body of bodies) {
      expect(body).not.toContain(TOKEN);
      expect(body).toContain('characters cut');
    }
    expect(await store.getOperation(op.id)).toMatchObject({ commentId: 501, checkRunId: 601 });
    // Reported again: the same comment and check run are edited; the reaction is not repeated.
    nock(API)
      .patch(`${R}/issues/comments/501`)
      .reply(200, {})
      .patch(`${R}/check-runs/601`)
      .reply(200, {});
    await outbox().report(op, octokit);
    expect(await store.undeliveredWrites(10)).toEqual([]);
  });

  it('an operation that ended with nobody left to report it gets its reports from the next pass', async () => {
    // The process that recorded the command and the one that ran it both died before reporting:
    // the end of the operation itself records its reports, and any replica's pass sends them.
    const op = await failedOp('k3d exited 1');
    nock(API)
      .post(`${R}/issues/1/comments`, (b) => b.body.includes(`kindler:operation:${op.id}`))
      .reply(201, { id: 502 })
      .post(`${R}/check-runs`)
      .reply(201, { id: 602 })
      .post(`${R}/issues/comments/99/reactions`, { content: 'confused' })
      .reply(201, {});
    await outbox({ clientFor: async () => octokit }).pass();
    expect(await store.getOperation(op.id)).toMatchObject({ commentId: 502, checkRunId: 602 });
    expect(await store.undeliveredWrites(10)).toEqual([]);
  });

  it('tries a write again while GitHub cannot take it, and says so', async () => {
    const op = await failedOp('short');
    const logged: string[] = [];
    nock(API)
      .post(`${R}/issues/1/comments`)
      .reply(502, { message: 'Bad Gateway' })
      // A 502 may come after GitHub wrote it: the next attempt looks first.
      .get(`${R}/issues/1/comments`)
      .query(true)
      .reply(200, [])
      .post(`${R}/issues/1/comments`)
      .reply(201, { id: 502 })
      .post(`${R}/check-runs`)
      .reply(201, { id: 602 })
      .post(`${R}/issues/comments/99/reactions`)
      .reply(201, {});
    await outbox({ logged }).report(op, octokit);
    expect(logged).toEqual(['GitHub did not take the status comment; trying again']);
    expect(await store.getOperation(op.id)).toMatchObject({ commentId: 502, checkRunId: 602 });
  });

  it('records what GitHub refused, does not send it again, and shows it as undelivered', async () => {
    const write = {
      kind: 'comment' as const,
      repo: { owner: 'o', repo: 'r' },
      issueNumber: 405,
      body: 'hello',
    };
    nock(API)
      .post(`${R}/issues/405/comments`)
      .reply(403, { message: 'Resource not accessible by integration' });
    expect(await outbox().send(write, { key: 'refused', client: octokit })).toEqual({
      delivered: false,
      id: null,
      error: '403: Resource not accessible by integration',
    });
    // The same write asked for again (a redelivery): recorded as refused, not sent twice.
    expect((await outbox().send(write, { key: 'refused', client: octokit })).delivered).toBe(false);
    expect((await store.undeliveredWrites(10)).find((w) => w.key === 'refused')).toMatchObject({
      state: 'refused',
      error: '403: Resource not accessible by integration',
    });
  });

  it('refuses a stored write it cannot read back, saying what is wrong, and sends nothing', async () => {
    await store.putWrite(
      { key: 'malformed', repo: 'o/r', kind: 'comment', request: { issueNumber: 'seven' } },
      false,
    );
    const pass = outboxOver(
      { store, redactor: new Redactor(), urls: {} as never },
      { clientFor: async () => octokit },
    );
    await pass.pass();
    const refused = (await store.undeliveredWrites(20)).find((w) => w.key === 'malformed');
    expect(refused).toMatchObject({ state: 'refused' });
    expect(refused!.error).toMatch(/^400: the stored comment is not a write this version knows: /);
    expect(refused!.error).toMatch(/issueNumber/);
  });

  it('keeps a write GitHub could not take and delivers it on the next pass', async () => {
    const write = {
      kind: 'comment' as const,
      repo: { owner: 'o', repo: 'r' },
      issueNumber: 406,
      body: 'later',
    };
    nock(API)
      .post(`${R}/issues/406/comments`)
      .reply(503, { message: 'Unavailable' })
      .get(`${R}/issues/406/comments`)
      .query(true)
      .reply(200, [])
      .post(`${R}/issues/406/comments`)
      .reply(503, { message: 'Unavailable' });
    expect((await outbox().send(write, { key: 'later', client: octokit })).delivered).toBe(false);
    expect((await store.undeliveredWrites(10)).find((w) => w.key === 'later')).toMatchObject({
      state: 'pending',
      error: '503: Unavailable',
    });
    // The next pass (its backoff made nothing here) delivers it, with the installation's client.
    const pass = outboxOver(
      { store, redactor: new Redactor(), urls: {} as never },
      { clientFor: async () => octokit },
    );
    nock(API)
      .get(`${R}/issues/406/comments`)
      .query(true)
      .reply(200, [])
      .post(`${R}/issues/406/comments`, (b) => unmarked(String(b.body)) === 'later')
      .reply(201, { id: 77 });
    expect(await pass.pass()).toBe(1);
    expect((await store.undeliveredWrites(10)).find((w) => w.key === 'later')).toBeUndefined();
  });

  it('a reply GitHub wrote but whose answer was lost (502) is found by its marker, not posted twice', async () => {
    const write = {
      kind: 'comment' as const,
      repo: { owner: 'o', repo: 'r' },
      issueNumber: 407,
      body: 'once',
    };
    let posted = '';
    nock(API)
      .post(`${R}/issues/407/comments`, (b) => ((posted = String(b.body)), true))
      .reply(502, { message: 'Bad Gateway' })
      .get(`${R}/issues/407/comments`)
      .query(true)
      .reply(200, () => [{ id: 4071, body: posted }]);
    expect(await outbox().send(write, { key: 'lost-answer', client: octokit })).toEqual({
      delivered: true,
      id: 4071,
    });
    expect(unmarked(posted)).toBe('once');
  });

  it('a 429 with retry-after holds every outbox on the database off that account until it passes', async () => {
    const write = (n: number) => ({
      kind: 'comment' as const,
      repo: { owner: 'limited', repo: 'r' },
      issueNumber: 500 + n,
      body: `w${n}`,
    });
    const sentAt: number[] = [];
    nock(API)
      .post('/repos/limited/r/issues/501/comments')
      .reply(429, { message: 'slow down' }, { 'retry-after': '2' });
    nock(API)
      .get(/\/repos\/limited\/r\/issues\/\d+\/comments/)
      .query(true)
      .reply(200, []);
    nock(API)
      .post(/\/repos\/limited\/r\/issues\/\d+\/comments/)
      .times(2)
      .reply(() => {
        sentAt.push(Date.now());
        return [201, { id: 1 }];
      });
    const first = outbox({ retryDelaysMs: [10] });
    const limited = Date.now();
    const a = first.send(write(1), { key: 'limited-1', client: octokit });
    // Another process's outbox, writing to the same account while the limit holds.
    await new Promise((r) => setTimeout(r, 300));
    const other = outbox({ retryDelaysMs: [10] });
    const b = other.send(write(2), { key: 'limited-2', client: octokit });
    expect((await a).delivered).toBe(true);
    expect((await b).delivered).toBe(true);
    expect(sentAt).toHaveLength(2);
    for (const at of sentAt) expect(at - limited).toBeGreaterThanOrEqual(1_900);
  });

  it('a status comment posted by a sender that died before recording it is found, not posted twice', async () => {
    const op = await failedOp('short');
    const dying = outboxOver(
      {
        store: Object.assign(Object.create(store), {
          finishWrite: async () => {
            throw new Error('the process died');
          },
        }),
        redactor: new Redactor(),
        urls: {} as never,
      },
      { leaseMs: 1 },
    );
    nock(API).post(`${R}/issues/1/comments`).reply(201, { id: 503 });
    await expect(dying.report(op, octokit)).rejects.toThrow('the process died');
    await new Promise((r) => setTimeout(r, 20)); // its lease runs out
    nock(API)
      .get(`${R}/issues/1/comments`)
      .query(true)
      .reply(200, [
        { id: 499, body: 'an earlier comment' },
        { id: 503, body: `<!-- kindler:operation:${op.id} -->\n### create` },
      ])
      .patch(`${R}/issues/comments/503`)
      .reply(200, {})
      .post(`${R}/check-runs`)
      .reply(201, { id: 603 })
      .post(`${R}/issues/comments/99/reactions`)
      .reply(201, {});
    await outbox().report(op, octokit);
    expect(await store.getOperation(op.id)).toMatchObject({ commentId: 503, checkRunId: 603 });
  });

  it('two processes reporting one operation at once post one comment and one check run', async () => {
    const op = await failedOp('short');
    let comments = 0;
    let checkRuns = 0;
    nock(API)
      .post(`${R}/issues/1/comments`)
      .times(2)
      .reply(201, () => ({ id: 510 + comments++ }))
      .post(`${R}/check-runs`)
      .times(2)
      .reply(201, () => ({ id: 610 + checkRuns++ }))
      .patch(/\/issues\/comments\/510|\/check-runs\/610/)
      .times(4)
      .reply(200, {})
      .post(`${R}/issues/comments/99/reactions`)
      .times(2)
      .reply(201, {});
    await Promise.all([outbox().report(op, octokit), outbox().report(op, octokit)]);
    expect([comments, checkRuns]).toEqual([1, 1]);
    expect(await store.getOperation(op.id)).toMatchObject({ commentId: 510, checkRunId: 610 });
    nock.cleanAll(); // the repeats allowed for the second process
  });
});
