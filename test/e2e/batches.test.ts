// Batches by label end to end, on the k3d/docker fakes, a bare Git repository and a real haproxy
// config: a preview that changes nothing, a confirmation taken once, at most KINDLER_BATCH_PARALLEL
// operations at a time (read off the fakes' own clock), each environment judged by the asker's
// rights on it, and a batch whose pass was lost carried on by a worker's — once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, contextOf, type BatchOutcome } from '../../src/actions/index.js';
import { parsePolicy, applyPolicy } from '../../src/commands/policy.js';
import type { BatchCommand } from '../../src/commands/verbs.js';
import { loadConfig } from '../../src/config/config.js';
import { Worker } from '../../src/github/worker.js';
import { advanceBatch } from '../../src/lifecycle/batches.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';

const TOKEN = 'batches-console-token-0123456789';
const TRIGGER = {
  source: 'issue_comment',
  actor: 'bob',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
} as const;

describe('batches by label', () => {
  let fakes: Fakes;
  let restore: () => void;
  let tmp: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let rt: Runtime;
  let server: http.Server;
  let base: string;

  const cli = (...argv: string[]) => cliInProcess(argv, env);
  const json = async (...argv: string[]) => {
    const result = await cli(...argv, '--json');
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    return (JSON.parse(result.stdout) as { batch: BatchOutcome }).batch;
  };
  const api = (route: string, body?: object) =>
    fetch(`${base}/kindler/api/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const status = async (name: string) => (await rt.store.getEnvironment(name))?.status ?? 'gone';
  /** The most `k3d cluster <verb>` calls that ran at one moment, from the fakes' own log. */
  const overlap = (verb: string): number => {
    const calls = fs
      .readFileSync(path.join(fakes.stateDir, 'times.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; args: string[]; startedAt: number; ms: number })
      .filter((c) => c.tool === 'k3d' && c.args[0] === 'cluster' && c.args[1] === verb);
    return Math.max(
      0,
      ...calls.map(
        (c) =>
          calls.filter((d) => d.startedAt <= c.startedAt && c.startedAt < d.startedAt + d.ms)
            .length,
      ),
    );
  };

  beforeAll(async () => {
    fakes = setupFakes();
    restore = fakes.apply();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-batches-'));
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
      path.join(tmp, 'haproxy.cfg'),
    );
    db = await createTestDatabase();
    env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'gitops.git'),
      BASE_DOMAIN: 'batches.test',
      HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      KINDLER_RETRY_DELAYS_MS: 'none',
      KINDLER_READY_TIMEOUT: '0',
      KINDLER_BATCH_PARALLEL: '2',
      USER: 'alice',
    };
    rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
    server = await startHttpServer([dashboardHandler(rt, { token: TOKEN })], '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [name, labels] of [
      ['a-1', 'team=a'],
      ['a-2', 'team=a'],
      ['a-3', 'team=a,tier=db'],
      ['a-4', 'team=a'],
      ['prod-a', 'team=a'],
      ['b-1', 'team=b'],
    ]) {
      const created = await cli('create', name as string, '--label', labels as string, '--json');
      expect(created.code, created.stderr).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await rt?.close();
    restore?.();
    fakes?.cleanup();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a preview changes nothing; its confirmation runs each once, at most two at a time', async () => {
    const ops = await rt.store.listOperations({ limit: 1000 });
    const preview = await json('stop', '--label', 'team=a');
    expect(preview).toMatchObject({ of: 'stop', confirmed: false, parallel: 2 });
    expect(preview.id).toMatch(/^[0-9a-f]{8}$/);
    expect(preview.items.map((i) => [i.name, i.outcome])).toEqual([
      ['a-1', 'planned'],
      ['a-2', 'planned'],
      ['a-3', 'planned'],
      ['a-4', 'planned'],
      ['prod-a', 'planned'],
    ]);
    expect(await rt.store.listOperations({ limit: 1000 })).toEqual(ops);
    const text = await cli('stop', '--label', 'team=a');
    expect(text.stdout).toContain('stop 5 of the 5 environments carrying "team=a", at most 2');
    expect(text.stdout).toMatch(/To carry it out: kindler stop --confirm [0-9a-f]{8} before /);

    // Each k3d stop takes a while, so that running together shows.
    fakes.fail('k3d cluster stop', { delayMs: 400 });
    const done = await cli('stop', '--confirm', preview.id as string, '--json');
    fakes.clearFailures();
    expect(done.code, done.stderr).toBe(0);
    const carried = (JSON.parse(done.stdout) as { batch: BatchOutcome }).batch;
    expect(carried.items.map((i) => [i.name, i.outcome])).toEqual(
      preview.items.map((i) => [i.name, 'done']),
    );
    for (const item of carried.items) expect(item.detail).toMatch(/^stop #\d+ success$/);
    for (const name of ['a-1', 'a-2', 'a-3', 'a-4', 'prod-a'])
      expect(await status(name)).toBe('stopped');
    expect(await status('b-1')).toBe('ready');
    expect(overlap('stop')).toBe(2);
    const stops = fakes
      .argv()
      .filter((a) => a[0] === 'k3d' && a[1] === 'cluster' && a[2] === 'stop');
    expect(stops.map((a) => a[3]).sort()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'prod-a']);
    expect((await rt.store.batches.get(preview.id as string))?.finishedAt).toBeInstanceOf(Date);

    // Carried out once: a second confirmation finds nothing to do, and does nothing.
    const again = await cli('stop', '--confirm', preview.id as string);
    expect(again.code).toBe(7);
    expect(again.stderr).toContain(`there is no stop preview "${preview.id}" to carry out (it was`);
    expect(fakes.argv().filter((a) => a[2] === 'stop')).toHaveLength(5);
  }, 60_000);

  it('a confirmation names its own verb, within the hour; bad words change nothing', async () => {
    const preview = await json('start', '--label', 'tier=db');
    expect(preview.items.map((i) => i.name)).toEqual(['a-3']);
    const wrong = await cli('delete', '--confirm', preview.id as string);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toContain(`"${preview.id}" is a start preview`);
    // An hour and a minute later (the preview's own clock, as kept).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `update batches set previewed_at = now() - interval '61 minutes' where id = $1`,
      [preview.id],
    );
    await client.end();
    const late = await cli('start', '--confirm', preview.id as string);
    expect(late.code).toBe(7);
    expect(late.stderr).toContain('a preview lasts an hour and is carried out once');
    for (const argv of [
      ['delete', 'a-1', '--label', 'team=a'],
      ['delete', '--label', 'team'],
      ['delete', '--confirm', 'nope'],
      ['extend', '--label', 'team=a', 'soon'],
    ]) {
      const refused = await cli(...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(refused.stderr).toContain('Usage: kindler');
    }
    expect(await status('a-3')).toBe('stopped');
    const none = await json('delete', '--label', 'team=nobody');
    expect(none).toMatchObject({ id: null, items: [] });
    // One batch holds at most 100: a label on 101 rows is refused, and nothing is kept.
    for (let i = 0; i < 101; i++)
      await rt.store.insertEnvironment({
        name: `bulk-${i}` as never,
        provider: 'k3d',
        labels: { bulk: 'yes' },
      });
    const batches = async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query('select count(*)::int as n from batches');
      await client.end();
      return (rows[0] as { n: number }).n;
    };
    const kept = await batches();
    const tooMany = await cli('delete', '--label', 'bulk=yes');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain(
      'the labels select more than 100 environments, more than one batch holds',
    );
    expect(await batches()).toBe(kept);
    for (let i = 0; i < 101; i++) await rt.store.deleteEnvironment(`bulk-${i}` as never);
  }, 60_000);

  it("judges each environment by the asker's rights on it (a rule for prod-* holds)", async () => {
    const parsed = parsePolicy(
      'permissions:\n  rules:\n    - name: prod-needs-admin\n      environments: ["prod-*"]\n' +
        '      verbs: [start, delete]\n      require: admin\n',
    );
    if (!parsed.ok) throw new Error(parsed.error);
    const judge = async (verb: Parameters<typeof applyPolicy>[1]['verb'], name: string) =>
      applyPolicy(parsed.policy, { verb, envName: name, login: 'bob', permission: 'write' });
    const ctx = { ...contextOf(rt, TRIGGER), judge };
    const ask = (command: BatchCommand) => batch(command, ctx);
    const preview = await ask({ verb: 'start', batch: { labels: { team: 'a' } } });
    const prod = preview.items.find((i) => i.name === 'prod-a');
    expect(prod).toMatchObject({ outcome: 'skipped' });
    expect(prod?.detail).toContain('rule "prod-needs-admin"');
    const confirmed = await ask({ verb: 'start', batch: { confirm: preview.id as string } });
    expect(confirmed.items.filter((i) => i.outcome === 'queued')).toHaveLength(2);
    // The worker runs them; each that ends lets the next in, never more than two at once.
    const worker = new Worker(rt, { owner: 'w', concurrency: 4 });
    for (
      let i = 0;
      i < 10 && (await rt.store.batches.get(preview.id as string))?.finishedAt == null;
      i++
    ) {
      const active = await rt.store.listOperations({ status: ['queued', 'running'], limit: 50 });
      expect(active.length).toBeLessThanOrEqual(2);
      await worker.tick();
    }
    const final = await rt.store.batches.get(preview.id as string);
    expect(final?.finishedAt).toBeInstanceOf(Date);
    for (const name of ['a-1', 'a-2', 'a-3', 'a-4']) expect(await status(name)).toBe('ready');
    expect(await status('prod-a')).toBe('stopped');
    expect(final?.items.find((i) => i.name === 'prod-a')?.outcome).toBe('skipped');
  }, 60_000);

  it('a batch being carried out is cancelled: what had not started never does, what was queued stops', async () => {
    const preview = await batch(
      { verb: 'stop', batch: { labels: { team: 'a' } } },
      contextOf(rt, TRIGGER),
    );
    const id = preview.id as string;
    const confirmed = await batch({ verb: 'stop', batch: { confirm: id } }, contextOf(rt, TRIGGER));
    expect(confirmed.items.filter((i) => i.outcome === 'queued').map((i) => i.name)).toEqual([
      'a-1',
      'a-2',
    ]);
    // A preview not confirmed, or a verb not its own, has nothing to cancel.
    const wrong = await api(`batches/delete/${id}/cancel`);
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as { error: string }).error).toContain(`"${id}" is a stop batch`);

    const cancelled = await api(`batches/stop/${id}/cancel`);
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    const { batch: after } = (await cancelled.json()) as { batch: BatchOutcome };
    expect(after).toMatchObject({ cancelled: true });
    expect(after.items.map((i) => [i.name, i.outcome])).toEqual([
      ['a-1', 'done'],
      ['a-2', 'done'],
      ['a-3', 'skipped'],
      ['a-4', 'skipped'],
      ['prod-a', 'skipped'],
    ]);
    expect(after.items[0]?.detail).toMatch(/^stop #\d+ cancelled$/);
    expect(after.items[2]?.detail).toBe('cancelled by operator');
    expect((await rt.store.batches.get(id))?.finishedAt).toBeInstanceOf(Date);
    // Nothing more starts: a worker's look records nothing and stops nothing.
    const worker = new Worker(rt, { owner: 'w3', concurrency: 4 });
    await worker.tick();
    const stops = (await rt.store.listOperations({ limit: 1000 })).filter(
      (o) => o.kind === 'stop' && o.trigger.actor === 'bob',
    );
    expect(stops.map((o) => [o.envName, o.status]).sort()).toEqual([
      ['a-1', 'cancelled'],
      ['a-2', 'cancelled'],
    ]);
    for (const name of ['a-1', 'a-2', 'a-3', 'a-4']) expect(await status(name)).toBe('ready');
    // Ended: a second cancel finds nothing to stop.
    const again = await cli('stop', '--cancel', id);
    expect(again.code).toBe(7);
    expect(again.stderr).toContain(`there is no stop batch "${id}" being carried out (it ended at`);
    const text = await cli('stop', '--cancel', 'zz');
    expect(text.code).toBe(2);
  }, 60_000);

  it('through the API; a pass lost with its process is carried on by the next, once', async () => {
    const previewed = await api('batches/extend', { labels: { team: 'b' }, duration: '3d' });
    expect(previewed.status, await previewed.clone().text()).toBe(200);
    const { batch: preview } = (await previewed.json()) as { batch: BatchOutcome };
    const before = (await rt.store.getEnvironment('b-1'))?.expiresAt ?? null;
    expect(before).toBeNull();
    const extended = await api(`batches/extend/${preview.id}`);
    expect(extended.status).toBe(202);
    const expires = (await rt.store.getEnvironment('b-1'))?.expiresAt;
    expect(expires!.getTime() - Date.now()).toBeGreaterThan(3 * 86_400_000 - 60_000);
    expect(((await extended.json()) as { batch: BatchOutcome }).batch.items).toEqual([
      { name: 'b-1', outcome: 'done', detail: `expires ${expires!.toISOString()}` },
    ]);
    const noLabels = await api('batches/delete', {});
    expect(noLabels.status).toBe(400);
    expect(((await noLabels.json()) as { error: string }).error).toContain('"labels" is required');

    const del = (await (await api('batches/delete', { labels: { team: 'a' } })).json()) as {
      batch: BatchOutcome;
    };
    const confirmed = await api(`batches/delete/${del.batch.id}`);
    expect(confirmed.status).toBe(202);
    const queued = ((await confirmed.json()) as { batch: BatchOutcome }).batch.items.filter(
      (i) => i.outcome === 'queued',
    );
    expect(queued.map((i) => i.name)).toEqual(['a-1', 'a-2']);
    // Both run to their end by a worker that dies before its pass: nothing new is recorded.
    for (const item of queued) await rt.engine.execute(item.operationId as number, { owner: 'x' });
    const id = del.batch.id as string;
    expect(
      (await rt.store.batches.get(id))?.items.filter((i) => i.outcome === 'queued'),
    ).toHaveLength(2);
    // Three passes at once (three replicas' looks): the row's lock lets one record the next two.
    await Promise.all([advanceBatch(rt, id), advanceBatch(rt, id), advanceBatch(rt, id)]);
    const after = await rt.store.batches.get(id);
    expect(after?.items.map((i) => [i.name, i.outcome])).toEqual([
      ['a-1', 'done'],
      ['a-2', 'done'],
      ['a-3', 'queued'],
      ['a-4', 'queued'],
      ['prod-a', 'planned'],
    ]);
    const deletes = await rt.store.listOperations({ limit: 100 });
    for (const name of ['a-3', 'a-4'])
      expect(deletes.filter((o) => o.envName === name && o.kind === 'delete')).toHaveLength(1);
    const worker = new Worker(rt, { owner: 'w2', concurrency: 4 });
    for (let i = 0; i < 10 && (await rt.store.batches.get(id))?.finishedAt == null; i++)
      await worker.tick();
    for (const name of ['a-1', 'a-2', 'a-3', 'a-4', 'prod-a'])
      expect(await status(name)).toBe('gone');
    expect(await status('b-1')).toBe('ready');
    expect(Object.keys(fakes.state().k3d).sort()).toEqual(['b-1']);
  }, 60_000);
});
