// Holes 5 and 11 of the security review: input from outside that reaches a repository or the
// database. A head's file name with a newline must not forge tree entries in the git CLI store
// (`git mktree` without -z read it as two lines); an upstream kindler.db row its reconciler marks
// `desired_state = 'absent'` must not come back as a live environment that `check` then offers to
// recreate.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/domain/index.js';
import { GitCliBranchStore } from '../../src/git/git-cli-branch-store.js';
import { cliInProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { rejection } from '../support/rejection.js';

let tmp: string;
let fakes: Fakes;
let restore: () => void;
let db: TestDatabase;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-inputs-'));
  fakes = setupFakes();
  restore = fakes.apply();
  db = await createTestDatabase();
});
afterAll(async () => {
  restore?.();
  fakes?.cleanup();
  await db?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('#5: file names from a head', () => {
  it('a name with a newline is refused and forges nothing; legal odd names round-trip', async () => {
    const remote = path.join(tmp, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
    const store = new GitCliBranchStore({
      url: remote,
      defaultBranch: 'main',
      author: { name: 'kindler-bot', email: 'bot@example.test' },
      timeoutMs: 30_000,
    });
    const files = [{ path: 'deploy/cm.yaml', content: 'apiVersion: v1\nkind: ConfigMap\n' }];
    await store.ensure(envName('nl-1'), files, 'first');
    const head = () =>
      execFileSync('git', [`--git-dir=${remote}`, 'rev-parse', 'nl-1'], { encoding: 'utf8' });
    const before = head();
    // What the review sent: the name's second line is a tree entry of its own (a symlink).
    const forged = {
      path: 'deploy/a.yaml\n120000 blob 0000000000000000000000000000000000000000\tdeploy/evil',
      content: 'x\n',
    };
    const error = await rejection(store.ensure(envName('nl-1'), [...files, forged], 'forged'));
    expect(error.message).toContain('a file name with a control character');
    expect(head()).toBe(before);
    const odd = [
      ...files,
      { path: 'deploy/sp ace "q".yaml', content: 'a: 1\n' },
      { path: 'deploy/tab\\name.yaml', content: 'b: 2\n' },
      { path: 'deploy/ünï.yaml', content: 'c: 3\n' },
    ];
    expect(await store.ensure(envName('nl-1'), odd, 'odd names')).toBe('updated');
    const listed = execFileSync(
      'git',
      [`--git-dir=${remote}`, 'ls-tree', '-r', '-z', '--name-only', 'nl-1'],
      { encoding: 'utf8' },
    )
      .split('\0')
      .filter(Boolean);
    expect(listed.sort()).toEqual(
      [
        'deploy/cm.yaml',
        'deploy/sp ace "q".yaml',
        'deploy/tab\\name.yaml',
        'deploy/ünï.yaml',
      ].sort(),
    );
    expect(await store.ensure(envName('nl-1'), odd, 'odd names again')).toBe('unchanged');
  });
});

describe("#11: upstream's absent rows", () => {
  it('are not imported, are named in the summary, and check offers no recreation', async () => {
    const file = path.join(tmp, 'kindler.db');
    const sqlite = new DatabaseSync(file);
    sqlite.exec(`create table clusters (id integer primary key autoincrement, name text unique not null,
      provider text not null, subnet text, node_port integer, pf_port integer, http_port integer,
      https_port integer, desired_state text default 'present', actual_state text default 'unknown')`);
    const insert = sqlite.prepare(
      'insert into clusters (name, provider, node_port, pf_port, http_port, https_port, desired_state) values (?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run('live-1', 'k3d', 30080, 19200, 18200, 18600, 'present');
    insert.run('gone-1', 'k3d', 30080, 19201, 18201, 18601, 'absent');
    sqlite.close();
    // Upstream's reconciler had not yet removed gone-1's cluster.
    fakes.holdK3dClusters([
      { name: 'live-1', httpPort: 18200, httpsPort: 18600 },
      { name: 'gone-1', httpPort: 18201, httpsPort: 18601 },
    ]);
    const env = {
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: path.join(tmp, 'remote.git'),
    };
    const imported = await cliInProcess(['import-sqlite', file, '--json'], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: ['live-1'], absent: ['gone-1'] });
    expect((await cliInProcess(['status', 'gone-1'], env)).code).toBe(3);
    const check = await cliInProcess(['check', '--json'], env);
    const report = JSON.parse(check.stdout) as {
      discrepancies: { name: string; kind: string; fix: unknown }[];
    };
    const gone = report.discrepancies.filter((d) => d.name === 'gone-1');
    // An orphan cluster to prune, never an environment to create again.
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.every((d) => d.kind === 'orphan')).toBe(true);
    expect(JSON.stringify(gone)).not.toMatch(/"create"|"sync"|retry/);
  });
});
