// The config repository's declaration of sites, kept in the database (store/declared-sites.ts), on
// both backends: what is kept and read back, what is refused and why, that the same list written
// in another key order is not a change, that racing declarations are told apart, and that every
// listener hears one.
import { afterEach, describe, expect, it } from 'vitest';
import { envName, Failure } from '../../src/domain/index.js';
import { DECLARED_SITES, declareSites, knownSites } from '../../src/store/declared-sites.js';
import type { StoreEvent } from '../../src/store/store.js';
import { PgDb } from '../../src/store/pg-db.js';
import { SqlStore } from '../../src/store/sql-store.js';
import { BACKENDS, createTestDatabase, type OpenedStore } from '../support/db.js';

const FROM = { repo: 'acme/envs', sha: 'a'.repeat(40) };
const NO_FILE = { KINDLER_SITES: undefined };

describe.each(BACKENDS)('declared sites on %s', (_name, openBackend) => {
  let opened: OpenedStore | null = null;
  const open = async () => {
    opened = await openBackend();
    await opened.store.migrate();
    return opened;
  };
  afterEach(async () => {
    await opened?.cleanup();
    opened = null;
  });

  it('keeps a valid declaration, reads it back for every process, and hears it announced', async () => {
    opened = await open();
    const { store } = opened;
    expect(await knownSites(NO_FILE, store)).toMatchObject({
      source: 'default',
      sites: [{ name: 'local' }],
    });
    const heard: StoreEvent[] = [];
    const stop = await store.events((e) => heard.push(e));
    const raw = [
      { name: 'local' },
      { name: 'eu-1', labels: { region: 'eu' }, max_environments: 3 },
    ];
    const declared = await declareSites(store, raw, FROM);
    expect(declared).toMatchObject({
      outcome: 'declared',
      sites: [{ name: 'local' }, { name: 'eu-1' }],
    });
    const known = await knownSites(NO_FILE, store);
    expect(known.source).toBe('repository');
    expect(known.sites[1]).toMatchObject({
      name: 'eu-1',
      labels: { region: 'eu' },
      maxEnvironments: 3,
    });
    await expect.poll(() => heard.some((e) => e.type === 'sites')).toBe(true);
    await stop();
    // The same list, its keys in another order: no change, nothing announced again.
    const reordered = [
      { name: 'local' },
      { max_environments: 3, labels: { region: 'eu' }, name: 'eu-1' },
    ];
    expect(await declareSites(store, reordered, FROM)).toEqual({ outcome: 'unchanged' });
    // KINDLER_SITES, when set, is the one source: the kept declaration is not read.
    await expect(knownSites({ KINDLER_SITES: '/nonexistent/sites.yaml' }, store)).rejects.toThrow(
      /KINDLER_SITES \(\/nonexistent\/sites\.yaml\)/,
    );
  });

  it('refuses an invalid list, a site it drops that holds environments, and what this process cannot use', async () => {
    opened = await open();
    const { store } = opened;
    expect(await declareSites(store, [{ name: 'local' }, { name: 'EU' }], FROM)).toEqual({
      outcome: 'refused',
      error: '.github/kindler.yml: sites.1.name: expected a DNS label',
    });
    expect(await declareSites(store, 'eu-1', FROM)).toEqual({
      outcome: 'refused',
      error: '.github/kindler.yml: sites: Invalid input: expected array, received string',
    });
    await declareSites(store, [{ name: 'local' }, { name: 'eu-1' }], FROM);
    for (const name of ['b1', 'b2'])
      await store.insertEnvironment({ name: envName(name), provider: 'k3d', site: 'eu-1' });
    // Dropping eu-1, or every site (no `sites:` any more): refused while b1 and b2 are there.
    for (const raw of [[{ name: 'local' }], undefined])
      expect(await declareSites(store, raw, FROM)).toEqual({
        outcome: 'refused',
        error:
          'site eu-1 holds 2 environments (b1, b2); delete them before the site is dropped from ' +
          '.github/kindler.yml',
      });
    expect(
      await declareSites(
        store,
        [{ name: 'local' }, { name: 'eu-1' }, { name: 'eu-2' }],
        FROM,
        () => 'no key here',
      ),
    ).toEqual({ outcome: 'refused', error: 'no key here' });
    // Nothing refused was kept.
    expect((await store.getState(DECLARED_SITES))?.sites).toEqual([
      { name: 'local' },
      { name: 'eu-1' },
    ]);
  });

  it('a database not migrated yet declares nothing (the caller migrates after opening)', async () => {
    // PostgreSQL's test databases are clones of a migrated one: this one is made empty.
    if (_name === 'postgres') {
      const db = await createTestDatabase({ empty: true });
      const store = new SqlStore(new PgDb(db.url));
      opened = { store, cleanup: async () => (await store.close(), await db.drop()) };
    } else opened = await openBackend();
    expect(await knownSites(NO_FILE, opened.store)).toMatchObject({
      source: 'default',
      sites: [{ name: 'local' }],
    });
  });

  it('a kept declaration this version cannot read is said, with where it came from', async () => {
    opened = await open();
    const { store } = opened;
    await store.setState(DECLARED_SITES, {
      sites: [{ name: 'local', flavour: 'x' }],
      repo: 'acme/envs',
      sha: 'b'.repeat(40),
      at: new Date().toISOString(),
    });
    const error = await knownSites(NO_FILE, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Failure);
    expect((error as Failure).message).toBe(
      'the sites acme/envs declared at bbbbbbb are not valid for this version of kindler ' +
        '(sites.0: Unrecognized key: "flavour"). To resolve, fix `sites:` in its ' +
        '.github/kindler.yml (docs/sites.md)',
    );
  });

  it('declarations racing: each different one is kept in turn, the same one once', async () => {
    opened = await open();
    const { store } = opened;
    const raw = [{ name: 'local' }, { name: 'eu-1' }];
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => declareSites(store, raw, FROM)),
    );
    expect(outcomes.filter((o) => o.outcome === 'declared')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'unchanged')).toHaveLength(5);
  });
});
