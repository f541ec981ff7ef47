// The Store contract, run on both backends against a fresh database per backend.
import { z } from 'zod';
import { stateKey } from '../../src/store/state-key.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, configOf, Failure, envName, type Trigger } from '../../src/domain/index.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS } from '../support/db.js';
import { countStatements } from '../support/statements.js';

const trigger: Trigger = {
  source: 'issue_comment',
  actor: 'alice',
  url: 'https://github.com/acme/cfg/issues/1#issuecomment-9',
  repo: 'acme/cfg',
  issueNumber: 1,
  headSha: null,
};

describe.each(BACKENDS)('store on %s', (_backend, open) => {
  let store: Store;
  let url: string | undefined;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, url, cleanup } = await open());
    await store.migrate();
  });
  /** A statement outside the Store contract (to set up what the contract cannot). */
  const raw = async (text: string) => {
    const db = store.queueDatabase();
    if ('pglite' in db) return void (await db.pglite.query(text));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(text).finally(() => client.end());
  };
  afterAll(async () => cleanup());

  it('inserts with the lowest free ports and subnet, and reads it back', async () => {
    const dev = await store.insertEnvironment({
      name: envName('dev'),
      provider: 'k3d',
      requestedBy: 'alice',
      sourceUrl: trigger.url,
    });
    expect(dev).toMatchObject({
      name: 'dev',
      provider: 'k3d',
      status: 'creating',
      httpPort: 18090,
      httpsPort: 18443,
      pfPort: 19000,
      nodePort: 30080,
      subnet: '10.101.0.0/16',
      requestedBy: 'alice',
      registerPortainer: true,
      haproxyRoute: true,
      pinned: false,
      labels: {},
    });
    const kind = await store.insertEnvironment({
      name: envName('dev-a'),
      provider: 'kind',
      haproxyRoute: false,
    });
    expect(kind).toMatchObject({
      httpPort: 18091,
      httpsPort: 18444,
      pfPort: 19001,
      nodePort: 30081,
      subnet: null,
      haproxyRoute: false,
    });
    expect(await store.getEnvironment('dev')).toEqual(dev);
    expect((await store.listEnvironments()).map((e) => e.name)).toEqual(['dev', 'dev-a']);
    expect(Math.abs(dev.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it("reads an environment's page in one round trip: the same row, operations and entry as apart", async () => {
    const env = await store.insertEnvironment({ name: envName('detail1'), provider: 'kind' });
    const first = await store.createOperation({ envName: env.name, kind: 'create', trigger });
    await store.saveStep(first.id, {
      step: 'record',
      status: 'done',
      startedAt: new Date('2026-01-02T03:04:05.678Z'),
      completedAt: new Date('2026-01-02T03:04:06.789Z'),
      detail: 'row recorded',
      error: null,
    });
    await store.updateOperation(first.id, { status: 'failed', error: 'k3d exited 1' });
    await store.createOperation({ envName: env.name, kind: 'delete', trigger });
    const doc = stateKey('detail:test', z.record(z.string(), z.object({ n: z.number() })));
    await store.setState(doc, { detail1: { n: 7 }, other: { n: 1 } });
    const detail = await store.environmentDetail('detail1', { operations: 20, entryKey: doc.name });
    expect(detail.environment).toEqual(await store.getEnvironment('detail1'));
    expect(detail.operations).toEqual(await store.listOperations({ envName: env.name, limit: 20 }));
    expect(detail.operations.map((o) => o.kind)).toEqual(['delete', 'create']);
    expect(detail.entry).toEqual({ n: 7 });
    expect(detail.versions).toEqual([]);
    expect(await store.environmentDetail('nope', { operations: 5, entryKey: doc.name })).toEqual({
      environment: null,
      operations: [],
      entry: null,
      versions: [],
    });
    // Its versions in the same statement, as the version store lists them.
    const by = { actor: 'a', via: 'cli', source: 'cli', operationId: first.id };
    await store.versions.record('detail1', { ...configOf(env), pinned: true }, by);
    await store.versions.record('detail1', { ...configOf(env), haproxyRoute: false }, by);
    const withVersions = await store.environmentDetail('detail1', {
      operations: 1,
      entryKey: doc.name,
      versions: 5,
    });
    expect(withVersions.versions).toEqual(await store.versions.list('detail1', 5));
    expect(withVersions.versions.map((v) => v.version)).toEqual([2, 1]);
    await raw("delete from environment_versions where env_name = 'detail1'");
    // The other tests count rows and operations: this one leaves none.
    await raw("delete from operations where cluster_name = 'detail1'");
    await store.deleteEnvironment(env.name);
  });

  it('updates and deletes rows; deleting twice reports absence', async () => {
    const until = new Date('2030-01-01T00:00:00.000Z');
    const updated = await store.updateEnvironment(envName('dev'), {
      status: 'ready',
      expiresAt: until,
      labels: { team: 'a' },
    });
    expect(updated).toMatchObject({ status: 'ready', expiresAt: until, labels: { team: 'a' } });
    expect(await store.deleteEnvironment(envName('dev-a'))).toBe(true);
    expect(await store.deleteEnvironment(envName('dev-a'))).toBe(false);
    await expect(store.updateEnvironment(envName('dev-a'), { status: 'ready' })).rejects.toThrow(
      'environment "dev-a" does not exist',
    );
  });

  it('keeps the management cluster out of the environment list but reserves its ports', async () => {
    const report = await store.importRecords([
      {
        name: 'devops',
        provider: 'k3d',
        subnet: null,
        nodePort: 30800,
        pfPort: 19001,
        httpPort: 18091,
        httpsPort: 18444,
        registerPortainer: false,
        haproxyRoute: false,
      },
    ]);
    expect(report).toEqual({ imported: ['devops'], skipped: [] });
    expect((await store.listEnvironments()).map((e) => e.name)).toEqual(['dev']);
    expect((await store.listAllRows()).map((e) => e.name)).toEqual(['devops', 'dev']);
    const next = await store.insertEnvironment({ name: envName('uat'), provider: 'k3d' });
    expect([next.httpPort, next.httpsPort, next.pfPort]).toEqual([18092, 18443 + 2, 19002]);
    expect(next.subnet).toBe('10.102.0.0/16');
  });

  it('lists rows added within one clock tick in the order they were added, not by name', async () => {
    const rows = ['zz-last', 'mm-mid', 'aa-first'].map((name, i) => ({
      name,
      provider: 'kind' as const,
      subnet: null,
      nodePort: 31001 + i,
      pfPort: 19101 + i,
      httpPort: 28001 + i,
      httpsPort: 28401 + i,
      registerPortainer: true,
      haproxyRoute: true,
    }));
    expect((await store.importRecords(rows)).imported).toEqual(['zz-last', 'mm-mid', 'aa-first']);
    await raw(
      `update clusters set created_at = '2030-01-01 00:00:00' where name in ('zz-last', 'mm-mid', 'aa-first')`,
    );
    expect((await store.listEnvironments()).map((e) => e.name).slice(-3)).toEqual([
      'zz-last',
      'mm-mid',
      'aa-first',
    ]);
    // The same rows in the same order read a page at a time through a cursor, each with its
    // entry of a state document (none where the document has no entry).
    const doc = stateKey('pages:test', z.record(z.string(), z.object({ n: z.number() })));
    await store.setState(doc, { 'mm-mid': { n: 2 }, gone: { n: 0 } });
    const pages: string[][] = [];
    const entries: Record<string, unknown> = {};
    await store.eachEnvironmentPage({ entryKey: doc.name, size: 2 }, (page) => {
      pages.push(page.map((p) => p.environment.name));
      for (const p of page) entries[p.environment.name] = p.entry;
    });
    const listed = await store.listEnvironments();
    expect(pages.flat()).toEqual(listed.map((e) => e.name));
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(entries).toMatchObject({ 'mm-mid': { n: 2 }, 'zz-last': null, 'aa-first': null });
    const read: unknown[] = [];
    await store.eachEnvironmentPage(
      { entryKey: doc.name, size: 500 },
      (page) => void read.push(...page.map((p) => p.environment)),
    );
    expect(read).toEqual(listed);
    // The snapshot's and the gateway's narrow read: the same rows, in the same order, each the
    // record of its row and where the gateway reaches it (its site's address, when it has one).
    const all = await store.listAllRows();
    expect(await store.listRecords()).toEqual(
      all.map((e) => ({
        name: e.name,
        provider: e.provider,
        subnet: e.subnet,
        nodePort: e.nodePort,
        pfPort: e.pfPort,
        httpPort: e.httpPort,
        httpsPort: e.httpsPort,
        registerPortainer: e.registerPortainer,
        haproxyRoute: e.haproxyRoute,
        serverIp: e.serverIp,
        site: e.site,
      })),
    );
    for (const r of rows) await store.deleteEnvironment(r.name as never);
  });

  it('records operations with their steps, one active per environment', async () => {
    const op = await store.createOperation({ envName: envName('uat'), kind: 'create', trigger });
    expect(op).toMatchObject({
      envName: 'uat',
      kind: 'create',
      status: 'queued',
      attempt: 1,
      trigger,
      cancelRequested: false,
    });
    expect(op.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'record:pending',
      'branch:pending',
      'cluster:pending',
      'portainer:pending',
      'argocd:pending',
      'haproxy:pending',
      'ready:pending',
    ]);
    const busy = await store
      .createOperation({ envName: envName('uat'), kind: 'delete', trigger })
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(Failure);
    expect((busy as Failure).code).toBe('busy');
    expect((busy as Failure).message).toMatch(
      new RegExp(
        `^environment "uat" already has a create operation \\(#${op.id}, queued, started .+\\); one operation runs at a time$`,
      ),
    );
    expect((await store.activeOperation(envName('uat')))?.id).toBe(op.id);
  });

  it('claims once, renews, and lets another worker take over after the lease expires', async () => {
    const op = (await store.activeOperation(envName('uat')))!;
    const claimed = await store.claimOperation(op.id, 'w:a', 200);
    expect(claimed).toMatchObject({ status: 'running', leaseOwner: 'w:a' });
    expect(await store.claimOperation(op.id, 'w:b', 200)).toBeNull();
    expect(await store.renewLease(op.id, 'w:b', 200)).toBe(false);
    expect(await store.renewLease(op.id, 'w:a', 50)).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    expect((await store.orphanedOperations()).map((o) => o.id)).toContain(op.id);
    expect(await store.claimOperation(op.id, 'w:b', 60_000)).toMatchObject({ leaseOwner: 'w:b' });
    expect(await store.renewLease(op.id, 'w:a', 200)).toBe(false);
  });

  it('saves steps, finishes, reopens for retry and cancels', async () => {
    const op = (await store.activeOperation(envName('uat')))!;
    const at = new Date('2026-01-01T10:00:00.000Z');
    await store.saveStep(op.id, {
      step: 'branch',
      status: 'done',
      startedAt: at,
      completedAt: new Date(at.getTime() + 1500),
      detail: 'created',
      error: null,
    });
    await store.saveStep(op.id, {
      step: 'cluster',
      status: 'failed',
      startedAt: at,
      completedAt: at,
      detail: null,
      error: 'k3d exited 1',
    });
    const failed = await store.updateOperation(op.id, {
      status: 'failed',
      failedStep: 'cluster',
      error: 'k3d exited 1',
      fixCommand: command('retry', 'uat'),
      completedAt: new Date(),
    });
    expect(failed).toMatchObject({ status: 'failed', failedStep: 'cluster', leaseOwner: null });
    expect(failed.steps.find((s) => s.step === 'branch')).toEqual({
      step: 'branch',
      status: 'done',
      startedAt: at,
      completedAt: new Date(at.getTime() + 1500),
      detail: 'created',
      error: null,
    });
    expect(await store.activeOperation(envName('uat'))).toBeNull();
    expect((await store.latestOperation(envName('uat')))?.id).toBe(op.id);

    const reopened = await store.reopenOperation(op.id);
    expect(reopened).toMatchObject({ status: 'queued', attempt: 2, error: null, failedStep: null });
    expect(reopened.steps.map((s) => s.status).slice(0, 3)).toEqual(['pending', 'done', 'pending']);

    const cancelled = await store.requestCancel(envName('uat'));
    expect(cancelled?.cancelRequested).toBe(true);
    expect(await store.requestCancel(envName('nothing-here'))).toBeNull();
    await expect(store.reopenOperation(op.id)).rejects.toThrow(
      'only a failed or cancelled operation can be retried',
    );
  });

  it('reads an operation with its steps in one statement: the steps in order, times to the ms', async () => {
    const op = await store.createOperation({
      envName: envName('one-read'),
      kind: 'create',
      trigger,
    });
    const at = new Date('2026-03-04T05:06:07.089Z');
    await store.saveStep(op.id, {
      step: 'cluster',
      status: 'failed',
      startedAt: at,
      completedAt: new Date(at.getTime() + 1),
      detail: 'k3d said: "no"',
      error: 'exit 1',
    });
    const statements = countStatements();
    const read = await store.getOperation(op.id).finally(() => statements.restore());
    // PGlite does not go through pg's client: the count is PostgreSQL's.
    if (_backend === 'postgres') expect(statements.sent).toBe(1);
    expect(read?.steps.map((s) => s.step)).toEqual(op.steps.map((s) => s.step));
    expect(read?.steps.find((s) => s.step === 'cluster')).toEqual({
      step: 'cluster',
      status: 'failed',
      startedAt: at,
      completedAt: new Date(at.getTime() + 1),
      detail: 'k3d said: "no"',
      error: 'exit 1',
    });
    expect(read?.steps.find((s) => s.step === 'branch')).toMatchObject({
      status: 'pending',
      startedAt: null,
    });
    expect(await store.listOperations({ envName: envName('one-read') })).toEqual([read]);
    await raw("delete from operations where cluster_name = 'one-read'");
  });

  it('lists operations by environment and status', async () => {
    await store.createOperation({ envName: envName('dev'), kind: 'delete', trigger });
    expect((await store.listOperations({ envName: envName('dev') })).map((o) => o.kind)).toEqual([
      'delete',
    ]);
    expect(
      (await store.listOperations({ status: ['queued'] })).map((o) => o.envName).sort(),
    ).toEqual(['dev', 'uat']);
    expect(await store.listOperations({ limit: 1 })).toHaveLength(1);
  });

  it('forgets deliveries and finished GitHub writes by age, never what is recent or still going out', async () => {
    await store.admitDelivery(['old-delivery'], 'issue_comment');
    await store.admitDelivery(['new-delivery'], 'issue_comment');
    await raw(
      `update webhook_deliveries set received_at = now() - interval '8 days' where id = 'old-delivery'`,
    );
    expect(await store.forgetDeliveries(7 * 86_400_000)).toBe(1);
    // Forgotten: a redelivery that old is admitted again; the recent one is still known.
    expect(await store.admitDelivery(['old-delivery'], 'issue_comment')).toBe(true);
    expect(await store.admitDelivery(['new-delivery'], 'issue_comment')).toBe(false);
    for (const key of ['w-delivered', 'w-refused', 'w-pending', 'w-recent'])
      await store.putWrite({ key, repo: 'o/r', kind: 'comment', request: {} }, false);
    await raw(
      `update github_writes set state = 'delivered' where key in ('w-delivered', 'w-recent')`,
    );
    await raw(`update github_writes set state = 'refused' where key = 'w-refused'`);
    await raw(
      `update github_writes set updated_at = now() - interval '8 days' where key <> 'w-recent'`,
    );
    expect(await store.forgetDeliveredWrites(7 * 86_400_000)).toBe(2);
    expect((await store.dueWrites(10)).map((w) => w.key)).toContain('w-pending');
  });

  it('de-duplicates webhook deliveries and keeps small state documents', async () => {
    expect(await store.admitDelivery(['d-1', 'comment:1:aa'], 'issue_comment')).toBe(true);
    expect(await store.admitDelivery(['d-1', 'comment:1:aa'], 'issue_comment')).toBe(false);
    // A captured comment sent again under a new delivery id: its version was seen.
    expect(await store.admitDelivery(['d-2', 'comment:1:aa'], 'issue_comment')).toBe(false);
    expect(await store.admitDelivery(['d-3', 'comment:1:bb'], 'issue_comment')).toBe(true);
    const x = stateKey('x', z.object({ n: z.number(), list: z.array(z.string()) }));
    expect(await store.getState(x)).toBeNull();
    await store.setState(x, { n: 1, list: ['a'] });
    await store.setState(x, { n: 2, list: ['b'] });
    expect(await store.getState(x)).toEqual({ n: 2, list: ['b'] });
    // A document an older version kept in another shape reads as absent, never as a cast.
    await store.setState(stateKey('x', z.unknown()), { n: 'two' });
    expect(await store.getState(x)).toBeNull();
  });

  it('forgets old history by age and by count per environment, never the last nor one under way', async () => {
    // Environments of their own, so the other tests' operations do not count.
    const finish = async (name: string, kind: 'create' | 'delete', daysAgo: number) => {
      const op = await store.createOperation({ envName: envName(name), kind, trigger });
      await store.updateOperation(op.id, { status: 'success', completedAt: new Date() });
      await raw(
        `update operations set completed_at = now() - interval '${daysAgo} days', started_at = now() - interval '${daysAgo} days' where id = ${op.id}`,
      );
      // Its reports (recorded by its end) delivered long ago.
      await raw(`update github_writes set state = 'delivered' where operation_id = ${op.id}`);
      return op.id;
    };
    const h1 = [
      await finish('hist1', 'create', 400),
      await finish('hist1', 'delete', 300),
      await finish('hist1', 'create', 5),
      await finish('hist1', 'delete', 3),
      await finish('hist1', 'create', 1),
    ];
    const lonely = await finish('hist2', 'create', 999); // old, but its environment's last
    const old = await finish('hist3', 'create', 500);
    const running = await store.createOperation({
      envName: envName('hist3'),
      kind: 'delete',
      trigger,
    });
    await raw(
      `update operations set started_at = now() - interval '600 days' where id = ${running.id}`,
    );
    const ids = async () =>
      (await store.listOperations({ limit: 1000 }))
        .filter((o) => o.envName.startsWith('hist'))
        .map((o) => o.id)
        .sort((a, b) => a - b);

    const forgotten = await store.pruneHistory({
      olderThan: new Date(Date.now() - 90 * 86_400_000),
      keepPerEnv: 2,
    });
    expect(forgotten).toBe(4); // hist1's two old ones and the third newest; hist3's finished old one
    expect(await ids()).toEqual([h1[3], h1[4], lonely, running.id].sort((a, b) => a - b));
    expect(await store.getOperation(old)).toBeNull();
    expect(await store.pruneHistory({ olderThan: null, keepPerEnv: null })).toBe(0);
    expect(await store.pruneHistory({ olderThan: new Date(), keepPerEnv: 1 })).toBe(1); // h1[3]
  });

  it('keeps the git objects a read used past the prune, and forgets the ones nobody read', async () => {
    await store.keepGitObjects(
      new Map([
        ['read-old', 'tree a'],
        ['idle-old', 'tree b'],
        ['fresh', 'tree c'],
      ]),
    );
    await raw(
      "update git_objects set used_at = now() - interval '2 days' where id in ('read-old', 'idle-old')",
    );
    expect(await store.gitObjects(['read-old', 'fresh', 'never-kept'])).toEqual(
      new Map([
        ['read-old', 'tree a'],
        ['fresh', 'tree c'],
      ]),
    );
    await store.pruneHistory({ olderThan: new Date(Date.now() - 86_400_000), keepPerEnv: null });
    expect(await store.gitObjects(['read-old', 'idle-old', 'fresh'])).toEqual(
      new Map([
        ['read-old', 'tree a'],
        ['fresh', 'tree c'],
      ]),
    );
  });
});
