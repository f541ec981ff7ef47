// The CLI's other commands and exit codes, in-process on the embedded default: usage errors,
// refusals, CSV adoption, cancel with nothing to cancel, and the degraded read-only answer.
import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../support/cli.js';
import { removeEmbedded } from '../support/embedded.js';

const UPSTREAM = `# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet
devops,k3d,30800,19000,false,false,23800,23843,
dev,k3d,30080,19001,true,true,18090,18443,10.101.0.0/16
uat,k3d,30080,19002,true,true,18091,18444,10.102.0.0/16
dev-a,kind,30081,19011,true,true,18093,18446,
`;

let tmp: string;
let env: Record<string, string>;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-cli-'));
  fs.writeFileSync(path.join(tmp, 'environments.csv'), UPSTREAM);
  env = { KINDLER_DATA_DIR: path.join(tmp, 'data'), DATABASE_URL: '' };
});
afterAll(async () => {
  await removeEmbedded(path.join(tmp, 'data'));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('kindler CLI', () => {
  it('help lists every command and the exit codes', async () => {
    const r = await cliInProcess(['help'], env);
    expect(r.code).toBe(0);
    for (const c of [
      'create',
      'delete',
      'retry',
      'cancel',
      'list',
      'status',
      'migrate',
      'import-csv',
      'import-sqlite',
      'export-csv',
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(r.stdout).toContain(
      'Exit codes: 0 ok, 1 failed, 2 usage, 3 refused, 4 degraded, 5 inconsistent, 6 cancelled, 7 nothing,\n            70 internal',
    );
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('says its version, and each verb its own usage', async () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'),
    );
    expect(await cliInProcess(['--version'], env)).toMatchObject({
      code: 0,
      stdout: `kindler ${pkg.version}\n`,
    });
    const help = await cliInProcess(['help', 'create'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /^Usage: kindler create <name> \[k3d\|kind \| --provider k3d\|kind\]/,
    );
    expect(help.stdout).toContain('create an environment: row, branch, cluster');
    expect((await cliInProcess(['create', '--help'], env)).stdout).toBe(help.stdout);
    for (const line of help.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it.each([
    [['frobnicate'], 2, 'kindler: unknown command "frobnicate"'],
    [
      ['create'],
      2,
      'kindler create: an environment name is required\nUsage: kindler create <name> [k3d|kind | --provider k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…] [--json]',
    ],
    [['create', 'Dev'], 2, 'kindler create: "Dev" has upper-case letters; use lower case ("dev")'],
    [
      ['create', 'devops'],
      2,
      'kindler create: "devops" is reserved (main, master, develop, release, devops) and is never an environment',
    ],
    [
      ['create', 'x', '--provider', 'docker'],
      2,
      'kindler create: provider "docker" is not supported; use k3d or kind',
    ],
    [
      ['create', 'x', '--ttl', 'soon'],
      2,
      'kindler create: "soon" is not a duration; use e.g. 90m, 24h, 3d, 2w or never',
    ],
    [['create', 'x', '--bogus'], 2, "kindler create: Unknown option '--bogus'"],
    // The grammar of /env: a typo gets a suggestion; extra words and a doubled provider are refused.
    [
      ['crate', 'x'],
      2,
      'kindler: unknown command "crate"; did you mean "create"? (kindler create x)',
    ],
    [['list', 'extra'], 2, 'kindler list: unexpected argument "extra"'],
    [
      ['create', 'x', 'docker'],
      2,
      'kindler create: provider "docker" is not supported; use k3d or kind',
    ],
    [
      ['create', 'x', 'kind', '--provider', 'k3d'],
      2,
      'kindler create: the provider is given twice ("kind" and --provider k3d); give it once',
    ],
    [['create', 'x', 'kind', 'more'], 2, 'kindler create: unexpected argument "more"'],
    [['extend', 'x', '24h', 'extra'], 2, 'kindler extend: unexpected argument "extra"'],
    [['extend', 'x', 'soon'], 2, 'kindler extend: "soon" is not a duration'],
    [['extend', 'ghost', '24h'], 3, 'kindler extend: environment "ghost" does not exist'],
    [['create', 'pr-99'], 2, '"pr-99" starts with pr-, which belongs to pull requests'],
    [
      ['status', 'ghost'],
      3,
      'kindler status: environment "ghost" does not exist\nNext: kindler list',
    ],
    [
      ['retry', 'ghost'],
      3,
      'kindler retry: environment "ghost" has no operation to retry\nNext: kindler list',
    ],
    [
      ['delete', 'ghost'],
      3,
      'kindler delete: environment "ghost" does not exist\nNext: kindler list',
    ],
  ])('%j exits %i with a clear message and changes nothing', async (argv, code, message) => {
    const r = await cliInProcess(argv, env);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    const list = await cliInProcess(['list', '--json'], env);
    expect(
      JSON.parse(list.stdout).environments.filter(
        (e: { name: string }) => e.name === 'x' || e.name === 'ghost',
      ),
    ).toEqual([]);
  });

  it('adopts an upstream environments.csv; export gives it back identically', async () => {
    const r = await cliInProcess(['import-csv', path.join(tmp, 'environments.csv'), '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      imported: ['devops', 'dev', 'uat', 'dev-a'],
      skipped: [],
    });
    const again = await cliInProcess(
      ['import-csv', path.join(tmp, 'environments.csv'), '--json'],
      env,
    );
    expect(JSON.parse(again.stdout).skipped).toHaveLength(4);
    const exported = await cliInProcess(['export-csv'], env);
    expect(exported.stdout).toBe(UPSTREAM);
    const list = JSON.parse((await cliInProcess(['list', '--json'], env)).stdout);
    expect(
      list.environments.map((e: { name: string; status: string }) => `${e.name}:${e.status}`),
    ).toEqual(['dev:ready', 'uat:ready', 'dev-a:ready']);
    expect(fs.readFileSync(path.join(tmp, 'data', 'environments.csv'), 'utf8')).toBe(UPSTREAM);
  });

  it('refuses a CSV with errors and imports nothing', async () => {
    fs.writeFileSync(
      path.join(tmp, 'bad.csv'),
      'ok-1,k3d,30080,19100,true,true,18100,18500,\nBad,k3d,30080,19101,true,true,18101,18501,\n',
    );
    const r = await cliInProcess(['import-csv', path.join(tmp, 'bad.csv')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'has errors; nothing was imported:\n  line 2: "Bad" has upper-case letters; use lower case ("bad")',
    );
    expect((await cliInProcess(['status', 'ok-1'], env)).code).toBe(3);
  });

  // Upstream's current SQLite schema (webui/backend/app/db.py at HEAD, with its migrations).
  const kindlerDb = (file: string, rows: unknown[][]) => {
    const db = new DatabaseSync(file);
    db.exec(`create table clusters (id integer primary key autoincrement, name text unique not null,
      provider text not null, subnet text, node_port integer, pf_port integer, http_port integer,
      https_port integer, status text default 'unknown', created_at timestamp default current_timestamp,
      updated_at timestamp default current_timestamp, server_ip text, desired_state text default 'present',
      actual_state text default 'unknown', last_reconciled_at timestamp, reconcile_error text)`);
    const insert = db.prepare(
      'insert into clusters (name, provider, subnet, node_port, pf_port, http_port, https_port, desired_state) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const row of rows) insert.run(...([...row, 'present'].slice(0, 8) as never[]));
    db.close();
  };

  it("adopts upstream Kindler's SQLite kindler.db: rows checked as the CSV's, defaults where empty", async () => {
    const file = path.join(tmp, 'kindler.db');
    kindlerDb(file, [
      ['devops', 'k3d', null, 30800, 19000, 23800, 23843],
      ['sq-one', 'k3d', '10.120.0.0/16', null, 19120, 18120, 18520],
      ['sq-kind', 'kind', null, 30082, 19121, 18121, 18521],
      ['sq-dup', 'k3d', null, 30080, 19122, 18090, 18522], // dev's http port
      // Upstream's reconciler is deleting it: not a live environment.
      ['sq-gone', 'k3d', null, 30080, 19123, 18123, 18523, 'absent'],
    ]);
    const r = await cliInProcess(['import-sqlite', file, '--json'], env);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      absent: ['sq-gone'],
      imported: ['sq-one', 'sq-kind'],
      skipped: [
        { name: 'devops', reason: 'already present (kept as it is)' },
        {
          name: 'sq-dup',
          reason: expect.stringMatching(/^conflicts with an existing row \(.*http/),
        },
      ],
    });
    const kind = JSON.parse((await cliInProcess(['status', 'sq-kind', '--json'], env)).stdout);
    expect(kind.environment).toMatchObject({ provider: 'kind', nodePort: 30082, subnet: null });
    // An empty node_port takes upstream's default for the provider.
    const k3d = JSON.parse((await cliInProcess(['status', 'sq-one', '--json'], env)).stdout);
    expect(k3d.environment).toMatchObject({ nodePort: 30080, subnet: '10.120.0.0/16' });
    // The absent row was not brought back, and the summary says so.
    expect((await cliInProcess(['status', 'sq-gone'], env)).code).toBe(3);
    const again = path.join(tmp, 'kindler-absent.db');
    kindlerDb(again, [['sq-gone2', 'kind', null, 30083, 19124, 18124, 18524, 'absent']]);
    const text = await cliInProcess(['import-sqlite', again], env);
    expect(text.stdout).toContain('Imported 0: -');
    expect(text.stdout).toContain(
      'Not imported, marked absent (being deleted) upstream: sq-gone2.',
    );
    expect((await cliInProcess(['status', 'sq-gone2'], env)).code).toBe(3);
  });

  it('refuses a SQLite database with a bad row, or without a clusters table, and imports nothing', async () => {
    const bad = path.join(tmp, 'bad.db');
    kindlerDb(bad, [
      ['sq-ok', 'k3d', null, 30080, 19130, 18130, 18530],
      ['sq-bad', 'docker', null, 30080, 19131, 18131, 18531],
    ]);
    const r = await cliInProcess(['import-sqlite', bad], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'has errors; nothing was imported:\n  row 2 (sq-bad): provider "docker" is not k3d or kind',
    );
    expect((await cliInProcess(['status', 'sq-ok'], env)).code).toBe(3);
    const empty = path.join(tmp, 'empty.db');
    new DatabaseSync(empty).close();
    const none = await cliInProcess(['import-sqlite', empty], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("has no clusters table: is it Kindler's kindler.db?");
    // SQLite keeps whatever it is given: a BLOB is neither a name nor a port.
    const blob = path.join(tmp, 'blob.db');
    kindlerDb(blob, [
      ['sq-fine', 'k3d', null, 30080, 19140, 18140, 18540],
      ['sq-blob', 'k3d', null, new Uint8Array([1, 2]), 19141, 18141, 18541],
    ]);
    const bytes = await cliInProcess(['import-sqlite', blob], env);
    expect(bytes.code).toBe(2);
    expect(bytes.stderr).toContain(
      'row 2 of the clusters table holds a value that is not text or a number (node_port); nothing was imported',
    );
    expect((await cliInProcess(['status', 'sq-fine'], env)).code).toBe(3);
  });

  it('refuses bad arguments before opening anything: exit 2 with the database down, no data dir made', async () => {
    const fresh = path.join(tmp, 'never-made');
    const down = {
      ...env,
      DATABASE_URL: 'postgres://kindler:pw@127.0.0.1:1/kindler',
      KINDLER_DATA_DIR: fresh,
    };
    const bad = await cliInProcess(['create', 'Dev'], down);
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'kindler create: "Dev" has upper-case letters; use lower case ("dev")\n',
    });
    const long = await cliInProcess(['create', 'a'.repeat(40)], down);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('on k3d the limit is 32');
    expect((await cliInProcess(['delete'], down)).code).toBe(2);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('a missing k3d or docker is found before anything is recorded', async () => {
    // This file puts no fakes on PATH, and the machine has no k3d.
    const r = await cliInProcess(['create', 'no-tools'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/k3d( and docker)? (is|are) not installed here \(not found on PATH\)/);
    expect(r.stderr).toContain('nothing was recorded');
    const listed = JSON.parse((await cliInProcess(['list', '--json'], env)).stdout);
    expect(listed.environments.map((e: { name: string }) => e.name)).not.toContain('no-tools');
    expect((await cliInProcess(['status', 'no-tools'], env)).code).toBe(3);
  });

  it('cancel with nothing running says so (7, as on every surface); of an unknown environment it is refused (3)', async () => {
    const r = await cliInProcess(['cancel', 'dev'], env);
    expect(r).toMatchObject({
      code: 7,
      stderr: 'kindler cancel: nothing to cancel: "dev" has no queued or running operation\n',
    });
    const unknown = await cliInProcess(['cancel', 'nosuch'], env);
    expect(unknown).toMatchObject({
      code: 3,
      stderr: 'kindler cancel: environment "nosuch" does not exist\nNext: kindler list\n',
    });
  });

  it('answers list and status from the CSV snapshot, marked degraded, when the database is unreachable', async () => {
    const down = { ...env, DATABASE_URL: 'postgres://kindler:pw-never-shown@127.0.0.1:1/kindler' };
    const r = await cliInProcess(['list'], down);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^⚠ degraded: the database is unreachable \(cannot reach PostgreSQL at 127\.0\.0\.1:1\/kindler: .*\); showing the CSV snapshot from \d{4}-/,
    );
    expect(r.stderr).not.toContain('pw-never-shown');
    expect(r.stdout.split('\n')[1]).toMatch(
      /^dev\s+k3d\s+18090\s+18443\s+19001\s+30080\s+10\.101\.0\.0\/16$/,
    );
    const json = JSON.parse((await cliInProcess(['status', 'uat', '--json'], down)).stdout);
    expect(json).toMatchObject({
      degraded: true,
      environments: [{ name: 'uat', httpPort: 18091 }],
    });
    const refused = await cliInProcess(['create', 'newone'], down);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('cannot reach PostgreSQL at 127.0.0.1:1/kindler');
    expect(refused.stderr).not.toContain('pw-never-shown');
  });
});
