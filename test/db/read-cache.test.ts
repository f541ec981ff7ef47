// The console's read cache against a real PostgreSQL: a read is kept until any process writes a
// table the console reads (a column no row trigger announces, such as labels, included), then read
// anew; every such table announces its writes; a read an announcement overtook is not kept, and
// nothing is kept while the announcements cannot be heard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/domain/index.js';
import { PgDb } from '../../src/store/pg-db.js';
import { ReadCache } from '../../src/store/read-cache.js';
import { SqlStore } from '../../src/store/sql-store.js';
import type { StoreEvent } from '../../src/store/store.js';
import { withPostgresStore, type OpenedStore } from '../support/db.js';

/** Polls `check` every 10 ms until it holds (at most 3 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not within 3 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the read cache', () => {
  let opened: OpenedStore;
  let other: SqlStore;

  beforeAll(async () => {
    opened = await withPostgresStore();
    await opened.store.migrate();
    // Another process's store on the same database (a replica, the CLI).
    other = new SqlStore(new PgDb(opened.url as string));
    await opened.store.insertEnvironment({ name: envName('dev'), provider: 'k3d' });
  });

  afterAll(async () => {
    await other?.close();
    await opened?.cleanup();
  });

  it("keeps a read until another process's write, then reads anew", async () => {
    const cache = new ReadCache(opened.store);
    await cache.listen();
    let reads = 0;
    const labels = () =>
      cache.get('dev', async () => {
        reads += 1;
        return (await opened.store.getEnvironment('dev'))?.labels ?? null;
      });
    expect(await labels()).toEqual({});
    expect(await labels()).toEqual({});
    expect(reads).toBe(1);
    // Labels change no status: only the statement's announcement tells of it.
    await other.updateEnvironment(envName('dev'), { labels: { team: 'a' } });
    await until(async () => (await labels())?.team === 'a');
    expect(reads).toBe(2);
    await labels();
    expect(reads).toBe(2);
    await cache.close();
  });

  /** Whether the database announced a change while `sql` ran on another connection. */
  async function announced(sql: string[]): Promise<boolean> {
    const heard: StoreEvent[] = [];
    const stop = await opened.store.events((e) => heard.push(e));
    const db = new PgDb(opened.url as string);
    const marker = { type: 'environment', env: 'marker', status: null };
    try {
      for (const statement of sql) await db.query(statement);
      // Sent last on the same connection: once it is heard, whatever came before it would have been.
      await db.query(`select pg_notify('kindler_events', $1)`, [JSON.stringify(marker)]);
      await until(async () => heard.some((e) => e.type === 'environment' && e.env === 'marker'));
      return heard.some((e) => e.type === 'changed');
    } finally {
      await db.close();
      await stop();
    }
  }

  const OP = `(select max(id) from operations)`;
  it.each([
    ['clusters', `update clusters set labels = '{"t":"1"}' where name = 'dev'`],
    ['operations', `update operations set status = 'failed' where id = ${OP}`],
    [
      'operation_steps',
      `insert into operation_steps (operation_id, step, position) values (${OP}, 'x', 9)`,
    ],
    [
      'environment_versions',
      `insert into environment_versions (env_name, version, source, config) values ('dev', 99, 't', '{}')`,
    ],
    [
      'github_writes',
      `insert into github_writes (key, repo, kind, request) values ('t', 'o/r', 'comment', '{}')`,
    ],
    ['kindler_state', `insert into kindler_state (key, value) values ('t', '{}')`],
    [
      'batches',
      `insert into batches (id, verb, labels, items, previewed_at) values ('t', 'stop', '{}', '[]', now())`,
    ],
  ])('a row changed in %s is announced', async (_table, sql) => {
    const db = new PgDb(opened.url as string);
    await db.query(
      `insert into operations (cluster_name, operation, status) values ('dev', 'create', 'success')`,
    );
    await db.close();
    expect(await announced([sql])).toBe(true);
  });

  it('a statement that changes no row, or only a lease, a turn or a claim, is not announced', async () => {
    expect(
      await announced([
        'delete from clusters where false',
        `update operations set lease_expires_at = now(), updated_at = now()`,
        `update kindler_state set updated_at = now()`,
        `update github_writes set lease_owner = 'w', lease_until = now(), attempts = attempts + 1`,
        `update clusters set labels = labels`,
      ]),
    ).toBe(false);
  });
});

describe('the read cache, told by hand', () => {
  /** A store whose announcements the test makes. */
  const told = () => {
    let tell: (e: StoreEvent) => void = () => undefined;
    const store = {
      events: async (on: (e: StoreEvent) => void) => {
        tell = on;
        return async () => undefined;
      },
    };
    return { store, tell: (e: StoreEvent) => tell(e) };
  };

  it('does not keep a read an announcement overtook', async () => {
    const { store, tell } = told();
    const cache = new ReadCache(store);
    await cache.listen();
    let reads = 0;
    let release: () => void = () => undefined;
    const slow = () =>
      cache.get('k', async () => {
        reads += 1;
        await new Promise<void>((r) => (release = r));
        return reads;
      });
    const first = slow();
    await new Promise((r) => setTimeout(r, 5));
    tell({ type: 'changed' });
    release();
    expect(await first).toBe(1);
    const second = slow();
    await new Promise((r) => setTimeout(r, 5));
    release();
    expect(await second).toBe(2);
    expect(await cache.get('k', async () => -1)).toBe(2);
  });

  it('keeps nothing while the announcements are lost, and again once they are back', async () => {
    const { store, tell } = told();
    const cache = new ReadCache(store);
    await cache.listen();
    let n = 0;
    const read = () => cache.get('k', async () => ++n);
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    tell({ type: 'lost' });
    expect(await read()).toBe(2);
    expect(await read()).toBe(3);
    tell({ type: 'resync' });
    expect(await read()).toBe(4);
    expect(await read()).toBe(4);
  });

  it('tells a live page of an announcement only after it forgot what it made old', async () => {
    const { store, tell } = told();
    const cache = new ReadCache(store);
    let n = 0;
    const read = () => cache.get('k', async () => ++n);
    const seen: number[] = [];
    await cache.events(() => void read().then((v) => seen.push(v)));
    expect(await read()).toBe(1);
    tell({ type: 'changed' });
    await until(async () => seen.length === 1);
    expect(seen).toEqual([2]);
  });

  it('is bounded: the least recently read goes first', async () => {
    const { store } = told();
    const cache = new ReadCache(store, 2);
    await cache.listen();
    let n = 0;
    const read = (k: string) => cache.get(k, async () => `${k}${++n}`);
    await read('a');
    await read('b');
    await read('a');
    await read('c');
    expect(await read('a')).toBe('a1');
    expect(await read('b')).toBe('b4');
  });
});
