// Consistency through the GitHub App: /env check, /env prune in two comments, /env sync refused to
// a reader, the Re-check button, and the drift monitor's tracking issue — every GitHub request
// asserted with strict nock; Git, k3d and kind are real (a bare repository and the CLI fakes).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import type { Probot } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kindlerApp, receiveDelivery } from '../../src/github/app.js';
import { loadConfig } from '../../src/config/config.js';
import { envName } from '../../src/domain/index.js';
import { driftMonitor } from '../../src/github/drift.js';
import { outboxOver } from '../../src/github/outbox.js';
import { PermissionCache } from '../../src/github/permissions.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { webhookExample, unmarked } from '../support/github-fixtures.js';
import { contractProbot, expectNoContractViolations } from '../support/github-contract.js';

const API = 'https://api.github.com';
const R = '/repos/Codertocat/Hello-World';
const HEAD = 'e'.repeat(40);

let db: TestDatabase;
let tmp: string;
let fakes: Fakes;
let restore: () => void;
let rt: Runtime;
let probot: Probot;
let delivery = 0;
const gitDir = () => path.join(tmp, 'gitops.git');
const branches = () =>
  execFileSync(
    'git',
    [`--git-dir=${gitDir()}`, 'for-each-ref', '--format=%(refname:strip=2)', 'refs/heads'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean)
    .sort();

function comment(body: string, login = 'Codertocat') {
  const p = webhookExample('issue_comment', 'created');
  // A new comment each time: a comment acts once per version of its body.
  const id = 4242 + delivery + 1;
  Object.assign(p.comment, {
    body,
    id,
    html_url: `https://github.com/Codertocat/Hello-World/issues/1#issuecomment-${id}`,
  });
  p.sender = { ...p.sender, login, type: 'User' };
  p.installation = { id: 77 };
  return receiveDelivery(probot, { id: `c-${++delivery}`, name: 'issue_comment', payload: p });
}

const collect = (into: string[]) => (b: { body?: unknown }) => {
  if (typeof b.body !== 'string') return false;
  // What a reader sees: the write's hidden marker (the outbox finds a lost write by it) aside.
  into.push(unmarked(b.body));
  return true;
};
/** 👀, and (unless the permission cache already knows) the policy file and the permission. */
const ack = (login: string, level: string, cached = false) => {
  nock(API)
    .post(/\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+\/reactions/, {
      content: 'eyes',
    })
    .reply(201, {});
  if (cached) return;
  nock(API)
    .get(/\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)kindler\.yml/)
    .reply(404, { message: 'Not Found' });
  nock(API)
    .get(`${R}/collaborators/${login}/permission`)
    .reply(200, { permission: level, user: { login } });
};
/** A check run on the default branch head (those named `only`, when given), collected. */
const checkRunOnHead = (into: any[], id: number, only?: string) =>
  nock(API)
    .get(R)
    .reply(200, { default_branch: 'main' })
    .get(`${R}/branches/main`)
    .reply(200, { commit: { sha: HEAD } })
    .post(`${R}/check-runs`, (b) => {
      if (only && b.name !== only) return false;
      into.push(b);
      return true;
    })
    .reply(201, { id });
/** The kindler/consistency check run. */
const consistencyRun = (into: any[]) => checkRunOnHead(into, 3030, 'kindler/consistency');
/** An operation's check run, as announce() creates it. */
const operationRun = (into: any[], id: number) => checkRunOnHead(into, id);

beforeAll(async () => {
  fakes = setupFakes();
  restore = fakes.apply();
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-app-consistency-'));
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', gitDir()]);
  rt = await openRuntime(
    loadConfig(
      {
        ...process.env,
        ...fakes.env,
        DATABASE_URL: db.url,
        KINDLER_DATA_DIR: tmp,
        GIT_REPO_URL: gitDir(),
        BASE_DOMAIN: 'example.test',
        KINDLER_CLI_TIMEOUT_MS: '5000',
        // Each test changes the systems between checks: no report is fresh enough to share.
        KINDLER_CHECK_FRESH_SECONDS: '0',
      },
      tmp,
    ),
  );
  await rt.store.migrate();
  const dev = await rt.store.insertEnvironment({ name: envName('dev'), provider: 'k3d' });
  await rt.store.updateEnvironment(dev.name, { status: 'ready' });
  await rt.branches.ensure(dev.name, await rt.render(dev), 'dev');
  await rt.branches.ensure(
    envName('gone'),
    await rt.render({ ...dev, name: envName('gone') }),
    'an orphan',
  );
  fakes.holdK3dClusters([dev]);
  nock.disableNetConnect();
});
afterAll(async () => {
  nock.enableNetConnect();
  await rt.close();
  restore();
  fakes.cleanup();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  probot = contractProbot();
  await probot.load(kindlerApp({ rt, permissions: new PermissionCache() }));
});
afterEach(() => {
  expectNoContractViolations();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('consistency through the GitHub App', () => {
  it('/env check answers with the report and publishes the kindler/consistency check run with Re-check and Sync', async () => {
    ack('Codertocat', 'read');
    const runs: any[] = [];
    consistencyRun(runs);
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 1 });
    await comment('/env check');
    expect(runs[0]).toMatchObject({
      head_sha: HEAD,
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'Inconsistent: 1 difference (1 orphan)' },
      actions: [
        { identifier: 'recheck', label: 'Re-check' },
        { identifier: 'sync', label: 'Sync' },
      ],
    });
    expect(runs[0].output.summary).toContain('| `gone` (no row) | – | ✗ orphan | – | – | – | – |');
    expect(runs[0].output.summary).toContain(
      '| portainer | – skipped | PORTAINER\\_URL is not set |', // Markdown-escaped
    );
    expect(replies[0]).toContain('> /env check');
    expect(replies[0]).toContain(
      '| `gone` | git | orphan | branch "gone" has no database row | `/env prune gone` |',
    );
    expect(replies[0]).toContain('| `dev` | k3d | ✓ | ✓ | skipped | skipped | skipped |');
  });

  it('/env sync is refused to a reader, with the rule, and runs nothing', async () => {
    ack('reader', 'read');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 2 });
    await comment('/env sync', 'reader');
    expect(replies[0]).toContain('> /env sync');
    expect(replies[0]).toMatch(/@reader.*write/);
  });

  it('/env sync records a sync operation per environment that needs one, announced like any operation, and the engine runs it', async () => {
    execFileSync('git', ['--git-dir', gitDir(), 'branch', '-D', 'dev']); // dev's branch lost
    ack('Codertocat', 'write');
    const comments: string[] = [];
    const runs: any[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(comments)).times(2).reply(201, { id: 6 });
    operationRun(runs, 3131);
    await comment('/env sync');
    const op = (await rt.store.latestOperation(envName('dev')))!;
    expect(op).toMatchObject({
      kind: 'sync',
      status: 'queued',
      trigger: { source: 'issue_comment', actor: 'Codertocat' },
      commentId: 6,
      checkRunId: 3131,
    });
    // Only what the check found wanting runs; the rest is recorded as in order.
    expect(op.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'branch:pending',
      'cluster:skipped',
      'portainer:skipped',
      'argocd:skipped',
      'haproxy:skipped',
      'ready:pending',
    ]);
    expect(comments[0]).toContain('### `sync dev` — 🕒 queued');
    expect(runs[0]).toMatchObject({ name: 'kindler/sync dev', external_id: String(op.id) });
    expect(comments[1]).toContain('> /env sync');
    expect(comments[1]).toContain(`- → \`dev\`: ensure branch — sync \\#${op.id}`); // # escaped
    expect(branches()).not.toContain('dev'); // nothing changed before a worker runs it
    const done = (await rt.engine.execute(op.id, { owner: 'test' }))!;
    expect(done.status).toBe('success');
    expect(branches()).toContain('dev');
    expect((await rt.store.getEnvironment(envName('dev')))?.status).toBe('ready');
  });

  it('/env prune previews under an id; a confirmation of no preview does nothing; of the preview it archives, once', async () => {
    const replies: string[] = [];
    ack('Codertocat', 'write');
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 3 });
    await comment('/env prune --confirm 0badc0de');
    expect(replies[0]).toContain(
      'there is no prune preview "0badc0de" to carry out (a preview lasts an hour and is carried out once); nothing was done\n\nNext: `/env prune`',
    );
    expect(branches()).toContain('gone');

    ack('Codertocat', 'write', true);
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 4 });
    await comment('/env prune');
    expect(replies[1]).toContain('**Preview — nothing was changed.** Prune would take');
    expect(replies[1]).toMatch(
      /- • `gone`: archive branch "gone" as "archive\/gone-\d{8}-\d{6}", then delete it/,
    );
    const id =
      /comment `\/env prune --confirm ([0-9a-f]{8})` before \S+Z\. Only what is listed here is removed\./.exec(
        replies[1]!,
      )?.[1];
    expect(id).toBeDefined();
    expect(branches()).toContain('gone');

    ack('Codertocat', 'write', true);
    // The prune is an operation: announced (status comment, check run), then run by a worker.
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).times(2).reply(201, { id: 5 });
    const runs: any[] = [];
    operationRun(runs, 3232);
    await comment(`/env prune --confirm ${id}`);
    const op = (await rt.store.latestOperation(envName('gone')))!;
    expect(op).toMatchObject({
      kind: 'prune',
      status: 'queued',
      trigger: { actor: 'Codertocat' },
      checkRunId: 3232,
    });
    expect(op.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'cluster:skipped',
      'portainer:skipped',
      'argocd:skipped',
      'haproxy:skipped',
      'branch:pending',
    ]);
    expect(replies[2]).toContain('### `prune gone` — 🕒 queued');
    expect(runs[0]).toMatchObject({ name: 'kindler/prune gone' });
    expect(replies[3]).toMatch(
      /- → `gone`: archive branch "gone" as "archive\/gone-\d{8}-\d{6}", then delete it — prune \\#\d+/,
    );
    expect(branches()).toContain('gone'); // nothing removed before a worker runs it
    expect((await rt.engine.execute(op.id, { owner: 'test' }))?.status).toBe('success');
    expect(branches().filter((b) => b.startsWith('archive/gone-'))).toHaveLength(1);
    expect(branches()).not.toContain('gone');
    // Carried out once: the same confirmation again finds nothing to confirm.
    ack('Codertocat', 'write', true);
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 6 });
    await comment(`/env prune --confirm ${id}`);
    expect(replies[4]).toContain(`there is no prune preview "${id}" to carry out`);
  });

  it('Re-check on a check run runs the check again and publishes a new consistency check run', async () => {
    const p = webhookExample('check_run', 'requested_action');
    p.requested_action = { identifier: 'recheck' };
    p.check_run.external_id = 'consistency';
    p.repository = {
      ...p.repository,
      name: 'Hello-World',
      owner: { ...p.repository.owner, login: 'Codertocat' },
    };
    p.sender = { ...p.sender, login: 'Codertocat' };
    nock(API)
      .get(/\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)kindler\.yml/)
      .reply(404, { message: 'Not Found' });
    nock(API)
      .get(`${R}/collaborators/Codertocat/permission`)
      .reply(200, { permission: 'read', user: { login: 'Codertocat' } });
    const runs: any[] = [];
    consistencyRun(runs);
    await receiveDelivery(probot, { id: `k-${++delivery}`, name: 'check_run', payload: p });
    expect(runs[0]).toMatchObject({
      conclusion: 'success',
      output: { title: 'Consistent: no differences' },
    });
  });

  it('the drift monitor opens its issue on drift, updates it, closes it when gone, and reopens it', async () => {
    const octokit = (await probot.auth()) as never;
    const repo = { owner: 'Codertocat', repo: 'Hello-World' };
    const outbox = outboxOver(rt);
    expect((await driftMonitor(rt, { outbox, octokit, repo })).outcome).toBe('unchanged');

    await rt.branches.ensure(
      envName('stray'),
      [{ path: 'deploy/x.yaml', content: 'x: 1\n' }],
      'stray',
    );
    let opened: any;
    nock(API)
      .post(`${R}/issues`, (b) => {
        opened = b;
        return true;
      })
      .reply(201, { number: 99, state: 'open' });
    expect(await driftMonitor(rt, { outbox, octokit, repo })).toMatchObject({
      outcome: 'opened',
      issue: 99,
    });
    expect(opened).toMatchObject({
      title: 'kindler: drift — 1 difference (1 orphan)',
      labels: ['kindler-drift'],
    });
    expect(opened.body).toContain('<!-- kindler:drift -->');
    expect(opened.body).toContain(
      '| `stray` | git | orphan | branch "stray" has no database row | `/env prune stray` |',
    );

    nock(API)
      .get(`${R}/issues/99`)
      .reply(200, { number: 99, state: 'open' })
      .patch(
        `${R}/issues/99`,
        (b) => b.title === 'kindler: drift — 1 difference (1 orphan)' && !('state' in b),
      )
      .reply(200, {});
    expect((await driftMonitor(rt, { outbox, octokit, repo })).outcome).toBe('updated');

    await rt.branches.remove(envName('stray'));
    nock(API)
      .get(`${R}/issues/99`)
      .reply(200, { number: 99, state: 'open' })
      .post(`${R}/issues/99/comments`, (b) => /^No drift any more/.test(b.body))
      .reply(201, {})
      .patch(`${R}/issues/99`, { state: 'closed', state_reason: 'completed' })
      .reply(200, {});
    expect((await driftMonitor(rt, { outbox, octokit, repo })).outcome).toBe('closed');

    nock(API).get(`${R}/issues/99`).reply(200, { number: 99, state: 'closed' });
    expect((await driftMonitor(rt, { outbox, octokit, repo })).outcome).toBe('unchanged');

    await rt.branches.ensure(
      envName('stray'),
      [{ path: 'deploy/x.yaml', content: 'x: 1\n' }],
      'stray again',
    );
    nock(API)
      .get(`${R}/issues/99`)
      .reply(200, { number: 99, state: 'closed' })
      .patch(`${R}/issues/99`, (b) => b.state === 'open' && b.body.includes('stray'))
      .reply(200, {});
    expect((await driftMonitor(rt, { outbox, octokit, repo })).outcome).toBe('reopened');
  });
});
