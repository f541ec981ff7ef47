// The GitHub App end to end through the app (receiveDelivery) with a real webhook payload: every GitHub
// request asserted with strict nock, the operation recorded, run by the worker and reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import type { Probot } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kindlerApp, receiveDelivery } from '../../src/github/app.js';
import { loadConfig } from '../../src/config/config.js';
import { PermissionCache } from '../../src/github/permissions.js';
import { operationReporter } from '../../src/github/reporter.js';
import { outboxOver } from '../../src/github/outbox.js';
import { Worker } from '../../src/github/worker.js';
import { OperationQueue } from '../../src/queue/operation-queue.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { fakeSystems } from '../support/fake-steps.js';
import { webhookExample, unmarked } from '../support/github-fixtures.js';
import { contractProbot, expectNoContractViolations } from '../support/github-contract.js';

const base = webhookExample('issue_comment', 'created');
const API = 'https://api.github.com';
const R = '/repos/Codertocat/Hello-World';

// Every comment is a new one (GitHub's ids are unique; a comment acts once per version of its
// body), unless a test repeats an id on purpose.
let commentSeq = 4242;
function payload(
  body: string,
  sender: { login: string; type: string } = { login: 'Codertocat', type: 'User' },
  commentId = ++commentSeq,
) {
  const p = structuredClone(base);
  p.comment.body = body;
  p.comment.id = commentId;
  p.comment.html_url = `https://github.com/Codertocat/Hello-World/issues/1#issuecomment-${commentId}`;
  p.sender = { ...p.sender, ...sender };
  p.installation = { id: 77 };
  return p;
}

let db: TestDatabase;
let tmp: string;
let rt: Runtime;
let probot: Probot;
let delivery = 0;
const receive = (
  body: string,
  sender?: { login: string; type: string },
  id = `d-${++delivery}`,
  commentId?: number,
) =>
  receiveDelivery(probot, { id, name: 'issue_comment', payload: payload(body, sender, commentId) });
/** The reactions of any comment of the test repository. */
const REACTIONS = /\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+\/reactions/;

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-app-'));
  const real = await openRuntime(
    loadConfig(
      {
        DATABASE_URL: db.url,
        KINDLER_DATA_DIR: tmp,
        BASE_DOMAIN: 'example.test',
        KINDLER_CONFIG_REPO: 'Codertocat/Hello-World',
      },
      tmp,
    ),
  );
  await real.store.migrate();
  rt = {
    ...real,
    engine: new Engine({ store: real.store, handlers: fakeSystems().handlers, retryDelaysMs: [] }),
  };
  nock.disableNetConnect();
});
afterAll(async () => {
  nock.enableNetConnect();
  await rt.close();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
/** The app on a fresh Probot (its requests checked against GitHub's description), fresh caches. */
async function loadApp(deps: Partial<Parameters<typeof kindlerApp>[0]> = {}) {
  probot = contractProbot();
  await probot.load(
    kindlerApp({
      rt,
      permissions: new PermissionCache(),
      outbox: outboxOver(deps.rt ?? rt, { retryDelaysMs: [] }),
      ...deps,
    }),
  );
}
beforeEach(() => loadApp());
afterEach(() => {
  expectNoContractViolations();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** A body matcher that only takes comment bodies (nock may try it on other requests too). */
const collect = (into: string[]) => (b: { body?: unknown }) => {
  if (typeof b.body !== 'string') return false;
  // What a reader sees: the write's hidden marker (the outbox finds a lost write by it) aside.
  into.push(unmarked(b.body));
  return true;
};
/** announce(): the check run on the default branch head for an issue command. */
const checkRun = (id: number, onBody?: (b: any) => void) => {
  nock(API)
    .get(R)
    .reply(200, { default_branch: 'master' })
    .get(`${R}/branches/master`)
    .reply(200, { commit: { sha: 'f'.repeat(40) } })
    .post(`${R}/check-runs`, (b) => {
      if (b.head_sha !== 'f'.repeat(40)) return false;
      onBody?.(b);
      return true;
    })
    .reply(201, { id });
};
const policyFile = (policy: string | null) => {
  const contents = nock(API).get(
    /\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)kindler\.yml/,
  );
  if (policy === null) contents.reply(404, { message: 'Not Found' });
  else contents.reply(200, policy);
};
const permission = (login: string, level: string, policy: string | null = null) => {
  policyFile(policy);
  return nock(API)
    .get(`${R}/collaborators/${login}/permission`)
    .reply(200, { permission: level, user: { login } });
};

describe('the GitHub App', () => {
  it('/env create: 👀, a status comment, the durable queue, then the worker runs it, edits the comment and reacts 🚀', async () => {
    // The server's wiring: the handler hands the recorded operation to the pg-boss queue; the
    // worker takes it from there.
    const octokit = await probot.auth();
    const queue = await OperationQueue.open({ database: { connectionString: db.url } });
    const outbox = outboxOver(rt);
    const worker = new Worker(rt, {
      owner: 'test:worker',
      concurrency: 2,
      queue,
      pollMs: 60_000,
      observerFor: async () =>
        operationReporter(outbox, { client: octokit as never, minIntervalMs: 60_000 }),
    });
    rt.store.enqueueWith(queue.enqueueIn);
    await loadApp({ outbox });
    const bodies: string[] = [];
    nock(API).post(REACTIONS, { content: 'eyes' }).reply(201, {});
    permission('Codertocat', 'write');
    nock(API).post(`${R}/issues/1/comments`, collect(bodies)).reply(201, { id: 9001 });
    let created: any;
    checkRun(555, (b) => {
      created = b;
    });
    await receive('Please set me up:\n/env create app-dev kind');
    expect(created).toMatchObject({
      name: 'kindler/create app-dev',
      status: 'queued',
      output: { title: 'create app-dev: queued' },
    });

    const op = (await rt.store.latestOperation('app-dev' as never))!;
    expect(op).toMatchObject({
      status: 'queued',
      commentId: 9001,
      checkRunId: 555,
      trigger: {
        source: 'issue_comment',
        actor: 'Codertocat',
        repo: 'Codertocat/Hello-World',
        issueNumber: 1,
      },
    });
    expect(bodies[0]).toContain('<!-- kindler:operation:');
    expect(bodies[0]).toContain('### `create app-dev` — 🕒 queued');

    // An operation that ends before its first progress edit is due costs its end only: one edit
    // of the comment, one of the check run.
    const edits: string[] = [];
    nock(API).patch(`${R}/issues/comments/9001`, collect(edits)).reply(200, {});
    nock(API).post(REACTIONS, { content: 'rocket' }).reply(201, {});
    const checks: any[] = [];
    nock(API)
      .patch(`${R}/check-runs/555`, (b) => {
        if (!b.status) return false;
        checks.push(b);
        return true;
      })
      .reply(200, {});
    await worker.start();
    try {
      for (let i = 0; i < 300 && (await rt.store.getOperation(op.id))?.status !== 'success'; i++)
        await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 50 && edits.length < 1; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      rt.store.enqueueWith(null);
      await worker.stop();
    }
    expect(edits).toHaveLength(1);
    const final = edits.at(-1)!;
    expect(final).toContain('### `create app-dev` — 🚀 succeeded');
    expect(final).toContain('| ✅ | cluster |');
    expect(final).toContain('**Ready.** http://whoami.app-dev.example.test');
    expect((await rt.store.getEnvironment('app-dev'))?.status).toBe('ready');
    expect(checks.map((c) => c.status)).toEqual(['completed']);
    expect(checks[0]).toMatchObject({
      conclusion: 'success',
      output: { title: 'create app-dev: success' },
    });
    expect(checks[0].output.summary).toContain('| cluster | done |');
  });

  it('a worker that takes the operation before its status comment exists reports through that one comment and check run', async () => {
    // The race: a worker takes the operation while the handler is still posting its status
    // comment. Both report through the outbox's rows for the operation, so nothing is posted twice
    // and the last word is the operation's end.
    let running: Promise<unknown> | null = null;
    let reporter: ReturnType<typeof operationReporter> | null = null;
    const racing: Runtime = {
      ...rt,
      store: Object.assign(Object.create(rt.store), {
        updateOperation: async (id: number, patch: { commentId?: number }) => {
          const saved = await rt.store.updateOperation(id, patch as never);
          if (patch.commentId && !running) {
            reporter = operationReporter(outbox, {
              client: (await probot.auth()) as never,
              minIntervalMs: 0,
            });
            running = rt.engine.execute(id, { owner: 'test:fast-worker', observer: reporter });
          }
          return saved;
        },
      }),
    };
    const outbox = outboxOver(racing, { retryDelaysMs: [] });
    await loadApp({ rt: racing, outbox });
    nock(API).post(REACTIONS, { content: 'eyes' }).reply(201, {});
    permission('Codertocat', 'write');
    let posted = 0;
    nock(API)
      .post(`${R}/issues/1/comments`)
      .times(2)
      .reply(201, () => ({ id: 9010 + posted++ }));
    checkRun(570);
    const edits: string[] = [];
    nock(API).patch(`${R}/issues/comments/9010`, collect(edits)).times(20).reply(200, {});
    const checks: any[] = [];
    nock(API)
      .patch(`${R}/check-runs/570`, (b) => {
        if (!b.status) return false;
        checks.push(b);
        return true;
      })
      .times(20)
      .reply(200, {});
    nock(API).post(REACTIONS, { content: 'rocket' }).reply(201, {});
    await receive('/env create raced');
    await running;
    await reporter!.flush();
    expect(posted).toBe(1);
    expect(edits.at(-1)).toContain('### `create raced` — 🚀 succeeded');
    expect(checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'success' });
    const op = (await rt.store.latestOperation('raced' as never))!;
    expect((await rt.store.undeliveredWrites(50)).filter((w) => w.operationId === op.id)).toEqual(
      [],
    );
    expect(op).toMatchObject({ status: 'success', commentId: 9010, checkRunId: 570 });
    expect(nock.pendingMocks().filter((m) => m.includes('reactions'))).toEqual([]);
    nock.cleanAll(); // the unused repeats of the answers allowed more than once
  });

  it('a redelivered webhook is handled once', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'write');
    nock(API).post(`${R}/issues/1/comments`).reply(201, { id: 9002 });
    checkRun(556);
    await receive('/env create once', undefined, 'same-delivery', 778);
    await receive('/env create once', undefined, 'same-delivery', 778);
    expect(await rt.store.listOperations({ envName: 'once' as never })).toHaveLength(1);
  });

  it('an invalid .github/kindler.yml stops comment commands too, saying so once', async () => {
    policyFile('permissions: [');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 5 });
    await receive('/env create p1\n/env list');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(
      /^\.github\/kindler\.yml is not valid YAML: .+\. No command runs until it is fixed\.$/,
    );
    expect(await rt.store.getEnvironment('p1')).toBeNull();
  });

  it('a replayed comment under a new delivery id changes nothing: a comment acts once per version', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'write');
    nock(API).post(`${R}/issues/1/comments`).reply(201, { id: 9004 });
    checkRun(559);
    await receive('/env create rp1', undefined, 'captured-1', 779);
    await receive('/env create rp1', undefined, 'replayed-with-a-new-id', 779);
    expect(await rt.store.listOperations({ envName: 'rp1' as never })).toHaveLength(1);
  });

  it('a 👀 GitHub could not take holds nothing up: the command is recorded once, the 👀 kept for the next pass', async () => {
    permission('Codertocat', 'write');
    nock(API).post(REACTIONS).reply(502, { message: 'Server Error' });
    nock(API).post(`${R}/issues/1/comments`).reply(201, { id: 9003 });
    checkRun(557);
    await receive('/env create later', undefined, 'flaky-delivery', 777);
    expect(await rt.store.listOperations({ envName: 'later' as never })).toHaveLength(1);
    expect(
      (await rt.store.undeliveredWrites(20)).find((w) => w.key.startsWith('eyes:comment:777:')),
    ).toMatchObject({ kind: 'reaction', state: 'pending', error: '502: Server Error' });
    // The same delivery again (the queue's retry, GitHub's redelivery) changes nothing.
    await receive('/env create later', undefined, 'flaky-delivery', 777);
    expect(await rt.store.listOperations({ envName: 'later' as never })).toHaveLength(1);
  });

  it('a read-only user is refused with the rule, and nothing is recorded', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('reader', 'read');
    let reply = '';
    nock(API)
      .post(`${R}/issues/1/comments`, (b) => {
        if (typeof b.body !== 'string') return false;
        reply = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 1 });
    await receive('/env delete app-dev', { login: 'reader', type: 'User' });
    expect(reply).toBe(
      '> /env delete app-dev\n\n@reader, `/env delete app-dev` needs write permission on this repository (rule "default write"); you have read.',
    );
    expect(await rt.store.activeOperation('app-dev' as never)).toBeNull();
  });

  it('a rule in .github/kindler.yml tightens a verb for matching names, and says so', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission(
      'writer',
      'write',
      'permissions:\n  rules:\n    - name: prod-needs-admin\n      environments: ["prod-*"]\n      verbs: [create, delete]\n      require: admin\n',
    );
    let reply = '';
    nock(API)
      .post(`${R}/issues/1/comments`, (b) => {
        if (typeof b.body !== 'string') return false;
        reply = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 2 });
    await receive('/env create prod-eu', { login: 'writer', type: 'User' });
    expect(reply).toBe(
      '> /env create prod-eu\n\n@writer, `/env create prod-eu` needs admin permission on this repository (rule "prod-needs-admin" in .github/kindler.yml); you have write.',
    );
    expect(await rt.store.getEnvironment('prod-eu')).toBeNull();
  });

  it('an edit counts only when it changes the command lines', async () => {
    const edited = (body: string, from: string, id: string) => {
      const p = payload(body);
      p.action = 'edited';
      p.changes = { body: { from } };
      return receiveDelivery(probot, { id, name: 'issue_comment', payload: p });
    };
    await edited(
      '/env delete app-dev\n\nfixed a typo in this sentence',
      '/env delete app-dev\n\nfixed a typo in this sentense',
      'e-1',
    );
    expect(await rt.store.activeOperation('app-dev' as never)).toBeNull();
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'write');
    nock(API).post(`${R}/issues/1/comments`).reply(201, { id: 8 });
    checkRun(558);
    await edited('/env create edited-env', '/env creat edited-env', 'e-2');
    expect((await rt.store.latestOperation('edited-env' as never))?.status).toBe('queued');
  });

  it('ignores bots (this app included), code blocks and quotes', async () => {
    await receive('/env delete app-dev', { login: 'kindler-bot[bot]', type: 'Bot' });
    await receive('Try:\n```\n/env delete app-dev\n```\n> /env delete app-dev');
    expect(await rt.store.activeOperation('app-dev' as never)).toBeNull();
  });

  it('handles several commands in one comment: a status comment per operation, one reply for the rest', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'admin');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).times(2).reply(201, { id: 5 });
    checkRun(557);
    await receive('/env create multi-a\n/env creat multi-b\n/env list');
    expect(replies).toHaveLength(2);
    expect(replies[0]).toContain('### `create multi-a` — 🕒 queued');
    const [refusal, list] = replies[1]!.split('\n\n---\n\n');
    expect(refusal).toBe(
      '> /env creat multi-b\n\n`creat` is not a command. Did you mean `/env create`? Send `/env help` for the list.',
    );
    expect(list).toContain('| app-dev | kind | ready |');
  });

  it('reads at most 10 commands of a comment, and refuses the rest in the same single reply', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'read');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 5 });
    const lines = Array.from({ length: 2000 }, (_, i) => `/env create x${i} k3d`).join('\n');
    await receive(lines);
    expect(replies).toHaveLength(1);
    const parts = replies[0]!.split('\n\n---\n\n');
    expect(parts).toHaveLength(11);
    expect(parts[0]).toContain('needs write permission');
    expect(parts[10]).toBe(
      'Only the first 10 commands of a comment are read; 1990 more were not run. Split them over several comments.',
    );
    expect(await rt.store.listEnvironments()).not.toContainEqual(
      expect.objectContaining({ name: 'x0' }),
    );
  });

  it('a sender without access gets one short refusal and nothing else, whatever the comment holds', async () => {
    permission('outsider', 'none');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).reply(201, { id: 5 });
    await receive('/env creat x\n/env delete app-dev\n/env list', {
      login: 'outsider',
      type: 'User',
    });
    expect(replies).toEqual([
      '@outsider, you need read permission on Codertocat/Hello-World to use `/env`; nothing was done.',
    ]);
  });

  it('an already existing environment gets the reason and the next command', async () => {
    nock(API).post(REACTIONS).reply(201, {});
    permission('Codertocat', 'write');
    let reply = '';
    nock(API)
      .post(`${R}/issues/1/comments`, (b) => {
        if (typeof b.body !== 'string') return false;
        reply = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 6 });
    await receive('/env create app-dev');
    expect(reply).toMatch(
      /^> \/env create app-dev\n\nenvironment "app-dev" already exists \(kind, status ready, created .+\)\n\nNext: `\/env status app-dev`$/,
    );
  });
});

describe('one authority: the config repository', () => {
  const G = '/repos/Codertocat/Guarded';
  // The app as deployed: rules and permissions come from Codertocat/Hello-World (the config
  // repository) for every repository; Hello-World's policy names which repositories may ask.
  const withAuthority = async () => {
    await loadApp({
      configRepo: 'Codertocat/Hello-World',
      configClient: async () => (await probot.auth()) as never,
    });
  };
  const inRepo = (repo: string, body: string, login: string) => {
    const p = payload(body, { login, type: 'User' });
    p.repository = { ...p.repository, name: repo, full_name: `Codertocat/${repo}` };
    p.comment.html_url = `https://github.com/Codertocat/${repo}/issues/1#issuecomment-${p.comment.id}`;
    return receiveDelivery(probot, { id: `d-${++delivery}`, name: 'issue_comment', payload: p });
  };
  const RULES =
    'repositories: [Codertocat/Hello-World, Codertocat/Guarded]\npermissions:\n  rules:\n    - name: prod-needs-admin\n      environments: ["prod-*"]\n      verbs: [create, delete]\n      require: admin\n    - name: deletes-by-alice\n      verbs: [delete]\n      users: [alice, bob]\n';

  it('a repository the policy does not name gets one short refusal', async () => {
    await withAuthority();
    policyFile(null);
    const replies: string[] = [];
    nock(API)
      .post('/repos/Codertocat/Elsewhere/issues/1/comments', collect(replies))
      .reply(201, {});
    await inRepo('Elsewhere', '/env create prod-a k3d', 'writer');
    expect(replies).toEqual([
      "kindler-bot takes commands in codertocat/hello-world only (`repositories` in codertocat/hello-world's .github/kindler.yml); nothing was done.",
    ]);
  });

  it("a rule of the config repository holds in every repository, judged on the sender's permission there", async () => {
    await withAuthority();
    permission('writer', 'write', RULES); // on Hello-World, not on Guarded
    const replies: string[] = [];
    nock(API)
      .post(/\/repos\/Codertocat\/Guarded\/issues\/comments\/\d+\/reactions/)
      .reply(201, {});
    nock(API).post(`${G}/issues/1/comments`, collect(replies)).reply(201, {});
    await inRepo('Guarded', '/env create prod-a k3d\n/env delete prod-a', 'writer');
    expect(replies[0]!.split('\n\n---\n\n')).toEqual([
      '> /env create prod-a k3d\n\n@writer, `/env create prod-a` needs admin permission on this repository (rule "prod-needs-admin" in .github/kindler.yml); you have write.',
      '> /env delete prod-a\n\n@writer, `/env delete prod-a` needs admin permission on this repository (rule "prod-needs-admin" in .github/kindler.yml); you have write.',
    ]);
    expect(await rt.store.getEnvironment('prod-a')).toBeNull();
  });

  it('a batch by label is judged per environment: a rule for prod-* holds for the names it selects', async () => {
    await withAuthority();
    for (const name of ['zz-1', 'zz-2', 'prod-zz'])
      await rt.store.insertEnvironment({
        name: name as never,
        provider: 'k3d',
        labels: { team: 'zz' },
      });
    const replies: string[] = [];
    nock(API).post(REACTIONS).times(2).reply(201, {});
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).times(2).reply(201, { id: 9 });
    permission('bob', 'write', RULES);
    await receive('/env delete --label team=zz', { login: 'bob', type: 'User' });
    const id = /Batch ([0-9a-f]{8}): delete 2 of the 3 environments/.exec(replies[0] ?? '')?.[1];
    expect(id, replies[0]).toBeDefined();
    expect(replies[0]).toContain('| `zz-1` | planned |');
    expect(replies[0]).toContain(
      '| `prod-zz` | skipped: @\u200bbob, \\`/env delete prod-zz\\` needs admin permission',
    );
    expect(replies[0]).toContain(`To carry it out: \`/env delete --confirm ${id}\` before `);
    expect(await rt.store.activeOperation('zz-1' as never)).toBeNull();

    // Judged again at the confirmation (the sender's rights, read once and kept a while).
    await receive(`/env delete --confirm ${id}`, { login: 'bob', type: 'User' });
    expect(replies[1]).toContain(`Batch ${id} carried out: delete on the environments carrying`);
    for (const name of ['zz-1', 'zz-2']) {
      const op = await rt.store.activeOperation(name as never);
      expect(op).toMatchObject({ kind: 'delete', status: 'queued' });
      expect(op?.trigger).toMatchObject({
        actor: 'bob',
        repo: 'Codertocat/Hello-World',
        issueNumber: 1,
      });
      await rt.store.updateOperation(op!.id, { status: 'cancelled' });
    }
    expect(await rt.store.activeOperation('prod-zz' as never)).toBeNull();
    for (const name of ['zz-1', 'zz-2', 'prod-zz']) await rt.store.deleteEnvironment(name as never);
  });

  it('retry is judged as the delete it resumes, and records who asked this time', async () => {
    await withAuthority();
    const env = await rt.store.insertEnvironment({ name: 'del1' as never, provider: 'k3d' });
    const op = await rt.store.createOperation({
      envName: env.name,
      kind: 'delete',
      trigger: {
        source: 'issue_comment',
        actor: 'alice',
        url: null,
        repo: 'Codertocat/Hello-World',
        issueNumber: 1,
        headSha: null,
      },
    });
    await rt.store.updateOperation(op.id, {
      status: 'failed',
      error: 'boom',
      failedStep: 'cluster',
    });
    permission('writer', 'write', RULES);
    nock(API)
      .get(`${R}/collaborators/bob/permission`)
      .reply(200, { permission: 'write', user: { login: 'bob' } });
    const replies: string[] = [];
    nock(API).post(REACTIONS).times(2).reply(201, {});
    nock(API).post(`${R}/issues/1/comments`, collect(replies)).times(2).reply(201, { id: 8 });
    checkRun(558);
    await receive('/env retry del1', { login: 'writer', type: 'User' });
    expect(replies[0]).toBe(
      '> /env retry del1\n\n@writer, `/env delete del1` is limited to @alice, @bob (rule "deletes-by-alice" in .github/kindler.yml).',
    );
    expect((await rt.store.getOperation(op.id))?.status).toBe('failed');
    await receive('/env retry del1', { login: 'bob', type: 'User' });
    const retried = (await rt.store.getOperation(op.id))!;
    expect(retried.status).toBe('queued');
    expect(retried.trigger.actor).toBe('bob');
    await rt.store.updateOperation(op.id, { status: 'cancelled' });
    await rt.store.deleteEnvironment(env.name);
  });
});

describe('pull-request environments', () => {
  const event = (
    action: string,
    labels: string[],
    label: string | null,
    id: string,
    number = 12,
    repoName = 'Hello-World',
    headRepo?: string,
  ) => {
    const p = webhookExample('pull_request', 'labeled');
    p.action = action;
    p.number = number;
    p.pull_request.number = number;
    p.pull_request.labels = labels.map((name) => ({ name }));
    p.label = label ? { name: label } : undefined;
    p.installation = { id: 77 };
    p.repository.owner.login = 'Codertocat';
    p.repository.name = repoName;
    p.repository.full_name = `Codertocat/${repoName}`;
    p.pull_request.html_url = `https://github.com/Codertocat/${repoName}/pull/${number}`;
    // The head in the same repository, unless the test makes it a fork.
    p.pull_request.head.repo = {
      ...p.pull_request.head.repo,
      full_name: headRepo ?? p.repository.full_name,
    };
    return receiveDelivery(probot, { id, name: 'pull_request', payload: p });
  };

  it('env:kind creates pr-12 with an expiry; closing deletes it; another label does nothing', async () => {
    permission('Codertocat', 'write'); // read once, then cached
    let body = '';
    nock(API)
      .post(`${R}/issues/12/comments`, (b) => {
        if (typeof b.body !== 'string') return false;
        body = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 7001 });
    let check: any;
    nock(API)
      .post(`${R}/check-runs`, (b) => {
        if (!b.head_sha) return false;
        check = b;
        return true;
      })
      .reply(201, { id: 600 });
    await event('labeled', ['env:kind'], 'env:kind', 'pr-1');
    expect(check).toMatchObject({
      name: 'kindler/create pr-12',
      head_sha: webhookExample('pull_request', 'labeled').pull_request.head.sha,
    });
    expect(body).toContain('### `create pr-12` — 🕒 queued');
    const env = await rt.store.getEnvironment('pr-12');
    expect(env).toMatchObject({ provider: 'kind', status: 'creating' });
    expect(Math.round((env!.expiresAt!.getTime() - Date.now()) / 3_600_000)).toBe(72);
    const op = (await rt.store.latestOperation('pr-12' as never))!;
    expect(op.trigger).toMatchObject({ source: 'pull_request', issueNumber: 12 });
    await rt.engine.execute(op.id, { owner: 'test:1' });

    await event('labeled', ['env:kind', 'bug'], 'bug', 'pr-2');
    await event('labeled', ['env:kind', 'keep'], 'keep', 'pr-k1');
    expect((await rt.store.getEnvironment('pr-12'))?.pinned).toBe(true);
    await event('unlabeled', ['env:kind'], 'keep', 'pr-k2');
    expect((await rt.store.getEnvironment('pr-12'))?.pinned).toBe(false);
    nock(API)
      .post(`${R}/issues/12/comments`, (b) => {
        if (typeof b.body !== 'string') return false;
        body = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 7002 });
    nock(API)
      .post(`${R}/check-runs`, (b) => b.name === 'kindler/delete pr-12')
      .reply(201, { id: 601 });
    await event('closed', ['env:kind'], null, 'pr-3');
    expect(body).toContain('### `delete pr-12` — 🕒 queued');
  });

  it("another repository's pull request #12 never touches this one's pr-12, and gets its own name", async () => {
    const O = '/repos/Codertocat/Other-Repo';
    nock(API)
      .get(/\/repos\/Codertocat\/Other-Repo\/contents\/\.github(%2F|\/)kindler\.yml/)
      .reply(404, { message: 'Not Found' })
      .get(`${O}/collaborators/Codertocat/permission`)
      .reply(200, { permission: 'write', user: { login: 'Codertocat' } });
    expect((await rt.store.getEnvironment('pr-12'))?.sourceUrl).toBe(
      'https://github.com/Codertocat/Hello-World/pull/12',
    );
    // Closing #12 in another repository: nothing happens (no comment, no operation).
    const before = await rt.store.latestOperation('pr-12' as never);
    await event('closed', ['env:kind'], null, 'pr-o1', 12, 'Other-Repo');
    expect((await rt.store.latestOperation('pr-12' as never))?.id).toBe(before?.id);
    // Labelling it creates an environment of its own.
    nock(API).post(`${O}/issues/12/comments`).reply(201, { id: 7010 });
    nock(API)
      .post(`${O}/check-runs`, (b) => /^kindler\/create pr-12-other-repo-[0-9a-f]{4}$/.test(b.name))
      .reply(201, { id: 610 });
    await event('labeled', ['env:k3d'], 'env:k3d', 'pr-o2', 12, 'Other-Repo');
    const mine = (await rt.store.listEnvironments()).find((e) =>
      e.name.startsWith('pr-12-other-repo-'),
    );
    expect(mine?.sourceUrl).toBe('https://github.com/Codertocat/Other-Repo/pull/12');
    await rt.store.deleteEnvironment(mine!.name);
  });

  it('an environment of the same name made elsewhere is never changed by a pull request', async () => {
    policyFile(null);
    const env = await rt.store.insertEnvironment({
      name: 'pr-14' as never,
      provider: 'k3d',
      sourceUrl: 'cli',
    });
    await event('closed', ['env:kind'], null, 'pr-g1', 14);
    expect(await rt.store.latestOperation(env.name)).toBeNull();
    expect(await rt.store.getEnvironment('pr-14')).not.toBeNull();
    await rt.store.deleteEnvironment(env.name);
  });

  const withWrite = async () => {
    // A fresh cache, and the sender with write access this time.
    await loadApp();
    permission('Codertocat', 'write');
  };

  it('a label from someone without write access, or a pull request from a fork, creates nothing', async () => {
    permission('Codertocat', 'read');
    const replies: string[] = [];
    nock(API).post(`${R}/issues/60/comments`, collect(replies)).times(2).reply(201, {});
    await event('labeled', ['env:k3d'], 'env:k3d', 'pr-f1', 60);
    expect(replies[0]).toBe(
      '@Codertocat, `/env create pr-60` needs write permission on this repository (rule "default write"); you have read.',
    );
    await withWrite();
    await event('reopened', ['env:k3d'], null, 'pr-f2', 60, 'Hello-World', 'mallory/Hello-World');
    expect(replies[1]).toBe(
      'This pull request comes from a fork: it gets no environment unless `pull_requests.forks: true` is set in .github/kindler.yml. Nothing was created.',
    );
    expect(await rt.store.getEnvironment('pr-60')).toBeNull();
  });

  it('takes label names, the pinning label and the lifetime from .github/kindler.yml', async () => {
    permission(
      'Codertocat',
      'write',
      'pull_requests:\n  labels: { k3d: preview }\n  keep_label: pin\n  ttl: 6h\n',
    );
    nock(API).post(`${R}/issues/13/comments`).reply(201, { id: 7003 });
    nock(API)
      .post(`${R}/check-runs`, (b) => b.name === 'kindler/create pr-13')
      .reply(201, { id: 602 });
    await event('labeled', ['env:k3d'], 'env:k3d', 'pr-c0', 13); // the default name means nothing now
    expect(await rt.store.getEnvironment('pr-13')).toBeNull();
    await event('labeled', ['preview', 'pin'], 'preview', 'pr-c1', 13);
    const env = await rt.store.getEnvironment('pr-13');
    expect(env).toMatchObject({ provider: 'k3d', pinned: true });
    expect(Math.round((env!.expiresAt!.getTime() - Date.now()) / 60_000)).toBe(360);
    await rt.store.deleteEnvironment(env!.name);
  });

  it('an invalid .github/kindler.yml stops pull-request environments, with the precise error', async () => {
    policyFile('pull_requests:\n  ttl: soon\n');
    let body = '';
    nock(API)
      .post(`${R}/issues/13/comments`, (b) => {
        body = unmarked(b.body);
        return true;
      })
      .reply(201, { id: 7004 });
    await event('labeled', ['env:kind'], 'env:kind', 'pr-i1', 13);
    expect(body).toBe(
      '.github/kindler.yml: pull_requests.ttl: expected a duration like 24h, 3d or never. No command runs until it is fixed.',
    );
    expect(await rt.store.getEnvironment('pr-13')).toBeNull();
  });
});

describe('check run buttons', () => {
  it('Retry on the check run of a failed operation requeues it, for people who may retry', async () => {
    const systems = fakeSystems();
    systems.failNext(
      'cluster',
      'ensure',
      new Error('creating kind cluster "btn": kind exited 1: boom'),
    );
    const engine = new Engine({ store: rt.store, handlers: systems.handlers, retryDelaysMs: [] });
    const trigger = {
      source: 'issue_comment' as const,
      actor: 'Codertocat',
      url: null,
      repo: 'Codertocat/Hello-World',
      issueNumber: 1,
      headSha: null,
    };
    const op = await engine.request({
      kind: 'create',
      name: 'btn' as never,
      provider: 'kind',
      trigger,
    });
    expect((await engine.execute(op.id, { owner: 'test:1' }))?.status).toBe('failed');
    const payload = webhookExample('check_run', 'requested_action');
    Object.assign(payload, {
      action: 'requested_action',
      requested_action: { identifier: 'retry' },
      installation: { id: 77 },
    });
    payload.check_run = { ...(payload.check_run ?? {}), external_id: String(op.id) };
    payload.repository = {
      ...(payload.repository ?? {}),
      name: 'Hello-World',
      owner: { login: 'Codertocat' },
    };
    payload.sender = { login: 'Codertocat', type: 'User' };
    permission('Codertocat', 'write');
    await receiveDelivery(probot, { id: 'btn-1', name: 'check_run', payload });
    expect(await rt.store.getOperation(op.id)).toMatchObject({
      status: 'queued',
      attempt: 2,
      trigger: { actor: 'Codertocat' },
    });
  });
});

describe('expiry', () => {
  it('warns once before the end, deletes when expired, never touches pinned ones', async () => {
    const engine = new Engine({
      store: rt.store,
      handlers: fakeSystems().handlers,
      retryDelaysMs: [],
    });
    const deps = { rt: { ...rt, engine }, permissions: new PermissionCache() };
    const trigger = {
      source: 'pull_request' as const,
      actor: 'u',
      url: null,
      repo: 'Codertocat/Hello-World',
      issueNumber: 30,
      headSha: 'e'.repeat(40),
    };
    for (const [name, hours, pinned] of [
      ['exp-soon', 2, false],
      ['exp-gone', -1, false],
      ['exp-kept', -1, true],
    ] as const) {
      const op = await engine.request({
        kind: 'create',
        name: name as never,
        provider: 'k3d',
        trigger,
      });
      await engine.execute(op.id, { owner: 'test:1' });
      await rt.store.updateEnvironment(name as never, {
        expiresAt: new Date(Date.now() + hours * 3_600_000),
        pinned,
      });
    }
    const comments: string[] = [];
    nock(API).post(`${R}/issues/30/comments`, collect(comments)).times(2).reply(201, { id: 31 });
    nock(API)
      .post(`${R}/check-runs`, (b) => b.name === 'kindler/delete exp-gone')
      .reply(201, { id: 32 });
    const octokit = await probot.auth();
    const { sweepExpiry } = await import('../../src/github/expiry.js');
    expect(
      await sweepExpiry({ ...deps, outbox: outboxOver(rt) }, async () => octokit as never),
    ).toEqual({
      warned: ['exp-soon'],
      deleted: ['exp-gone'],
    });
    expect(comments[0]).toMatch(
      /^⏰ Environment `exp-soon` expires .+ and will then be deleted\. To keep it longer, comment `\/env extend exp-soon 24h`\.$/,
    );
    expect(comments[1]).toContain('### `delete exp-gone` — 🕒 queued');
    expect(
      await sweepExpiry({ ...deps, outbox: outboxOver(rt) }, async () => octokit as never),
    ).toEqual({
      warned: [],
      deleted: [],
    });
    expect(await rt.store.activeOperation('exp-kept' as never)).toBeNull();
  });
});
