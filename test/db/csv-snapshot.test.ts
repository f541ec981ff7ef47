// The CSV snapshot on both backends: a change to named environments rewrites their lines alone,
// each row read by its name, and gives the file a whole rewrite gives; a file that is not a
// snapshot (or is missing) is rewritten whole; writers in turn leave every change in the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envName } from '../../src/domain/index.js';
import { writeSnapshot } from '../../src/store/csv-snapshot.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS, type OpenedStore } from '../support/db.js';
import { benchRows } from '../../bench/process.js';

/** Rows with ports of their own from `from` on (the unique indexes refuse shared ones). */
const rows = (names: string[], from: number) =>
  benchRows(names).map((r, i) => ({
    ...r,
    pfPort: 40_000 + from + i,
    httpPort: 20_000 + from + i,
    httpsPort: 31_000 + from + i,
  }));

describe.each(BACKENDS)('the CSV snapshot on %s', (_name, openBackend) => {
  let opened: OpenedStore | null = null;
  let dir: string;
  afterEach(async () => {
    await opened?.cleanup();
    opened = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const setup = async () => {
    opened = await openBackend();
    await opened.store.migrate();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-csv-'));
    await opened.store.importRecords(benchRows(['devops', 'alpha', 'beta', 'gamma']));
    return { store: opened.store, file: path.join(dir, 'environments.csv') };
  };
  /** What a whole rewrite gives, in a file of its own. */
  const whole = async (store: Store) => {
    const file = path.join(dir, 'whole.csv');
    await writeSnapshot(store, file);
    return fs.readFileSync(file, 'utf8');
  };

  it('rewrites the named lines alone, and gives what a whole rewrite gives', async () => {
    const { store, file } = await setup();
    await writeSnapshot(store, file);
    // A line no row holds stays: a named rewrite reads only the rows it names.
    fs.appendFileSync(file, 'orphan,k3d,30080,1,true,true,2,3,\n');
    await store.deleteEnvironment(envName('beta'));
    await store.updateEnvironment(envName('alpha'), { haproxyRoute: false });
    await store.importRecords(rows(['delta'], 100));
    await writeSnapshot(store, file, new Set(['beta', 'alpha', 'delta']));
    const text = fs.readFileSync(file, 'utf8');
    // The orphan where it was; the new row after it, last, where a whole rewrite puts the newest.
    const orphan = 'orphan,k3d,30080,1,true,true,2,3,\n';
    expect(text).toBe((await whole(store)).replace('\ndelta,', `\n${orphan}delta,`));
    expect(text).toMatch(/\nalpha,k3d,30080,40001,true,false,/);
    expect(text).not.toMatch(/\nbeta,/);
    // A whole rewrite puts it right.
    await writeSnapshot(store, file);
    expect(fs.readFileSync(file, 'utf8')).toBe(await whole(store));
  });

  it('rewrites a missing file, or one that is not a snapshot, whole', async () => {
    const { store, file } = await setup();
    await writeSnapshot(store, file, new Set(['alpha']));
    expect(fs.readFileSync(file, 'utf8')).toBe(await whole(store));
    fs.writeFileSync(file, 'name,whatever\nalpha,1\n');
    await writeSnapshot(store, file, new Set(['alpha']));
    expect(fs.readFileSync(file, 'utf8')).toBe(await whole(store));
  });

  it('writers in turn: twenty named rewrites at once leave every change in the file', async () => {
    const { store, file } = await setup();
    await writeSnapshot(store, file);
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await store.importRecords(rows(names, 200));
    await Promise.all(names.map((n) => writeSnapshot(store, file, new Set([n]))));
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (const n of names) expect(lines.filter((l) => l.startsWith(`${n},`))).toHaveLength(1);
  });
});
