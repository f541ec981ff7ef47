// A command loads what it uses when it uses it: `kindler list` and `kindler --help` never load the
// Kubernetes client (about 0.3 s and 70 MB of a CLI call), PGlite (on PostgreSQL) or execa (no
// child process to run); a Kubernetes call does load its client. A real CLI
// process under a module hook that records what is resolved.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const K8S = '@kubernetes/client-node';
const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]',
  'users: [{ name: u, user: { token: t } }]',
  'contexts: [{ name: x, context: { cluster: c, user: u } }]',
  'current-context: x',
  '',
].join('\n');
let tmp: string;
let hook: string;
let db: TestDatabase;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-lazy-'));
  hook = path.join(tmp, 'record.mjs');
  // Every specifier resolved in the process, one per line, written as it happens.
  fs.writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import fs from 'node:fs';
registerHooks({
  resolve(specifier, context, next) {
    fs.appendFileSync(process.env.RESOLVED_LOG, specifier + '\\n');
    return next(specifier, context);
  },
});
`,
  );
  db = await createTestDatabase();
  // The first call makes the data dir's local Git repository (`git init`); the reads after it
  // run nothing.
  resolvedBy(['list']);
});
afterAll(async () => {
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function resolvedBy(args: string[], script = path.join(ROOT, 'src/cli/main.ts')) {
  const log = path.join(tmp, `resolved-${args.join('-').replace(/\W/g, '')}.log`);
  fs.rmSync(log, { force: true });
  const r = spawnSync(process.execPath, ['--import', hook, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      RESOLVED_LOG: log,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
    },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return fs.readFileSync(log, 'utf8').split('\n');
}

describe('what a command loads', () => {
  it('`kindler list` and `kindler --help` load neither the Kubernetes client, nor PGlite, nor execa; help loads no package', () => {
    for (const args of [['list'], ['--help']]) {
      const resolved = resolvedBy(args);
      // The hook saw the CLI's own modules (tsx writes a source's `.js` specifiers as `.ts`).
      expect(resolved.some((s) => /\/help\.[jt]s$/.test(s))).toBe(true);
      const heavy = [K8S, '@electric-sql/pglite', 'execa'];
      expect(resolved.filter((s) => heavy.some((h) => s.startsWith(h)))).toEqual([]);
    }
    // Help loads nothing but what it says: none of the packages, not the command handlers.
    const help = resolvedBy(['--help']);
    const packages = ['pg', 'pino', 'yaml', 'zod', 'probot', 'pg-boss'];
    expect(help.filter((s) => packages.includes(s))).toEqual([]);
    const handlers = (resolved: string[]) => resolved.some((s) => /\/dispatch\.[jt]s$/.test(s));
    expect(handlers(help)).toBe(false);
    expect(handlers(resolvedBy(['list']))).toBe(true);
  });

  it('a read opens the store alone; a refused command loads no schema library and no handler', () => {
    const list = resolvedBy(['list']);
    // The runtime (every system's step) and the other commands' modules are not loaded.
    for (const module of ['runtime', 'lifecycle-commands', 'consistency-commands', 'engine'])
      expect(list.filter((s) => new RegExp(`/${module}\\.[jt]s$`).test(s))).toEqual([]);
    const log = path.join(tmp, 'refused.log');
    const refused = spawnSync(
      process.execPath,
      ['--import', hook, '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'status'],
      { cwd: ROOT, env: { ...process.env, RESOLVED_LOG: log }, encoding: 'utf8' },
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('an environment name is required');
    const loaded = fs.readFileSync(log, 'utf8').split('\n');
    expect(loaded.filter((s) => ['zod', 'pg', 'pino', 'yaml'].includes(s))).toEqual([]);
    expect(loaded.some((s) => /\/read-commands\.[jt]s$/.test(s))).toBe(false);
  });

  it.each([
    [['create', 'dev', '--nope'], "Unknown option '--nope'"],
    [['create', 'Bad_Name'], 'Bad_Name'],
    [['update', 'dev', '--servers', '9'], 'servers'],
    [['extend', 'dev', 'soon'], 'soon'],
    [['rollback', 'dev', 'x1'], 'is not a version number'],
    [['delete'], 'an environment name is required'],
  ])('`kindler %j` refused loads no package and no lifecycle handler', (args, said) => {
    const log = path.join(tmp, `refused-${args.join('-')}.log`);
    const refused = spawnSync(
      process.execPath,
      ['--import', hook, '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, RESOLVED_LOG: log }, encoding: 'utf8' },
    );
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(said);
    const loaded = fs.readFileSync(log, 'utf8').split('\n');
    const packages = ['zod', 'pg', 'pino', 'yaml', 'execa', 'mdast-util-from-markdown'];
    expect(loaded.filter((s) => packages.includes(s))).toEqual([]);
    for (const module of ['lifecycle-commands', 'actions/index', 'runtime', 'parse'])
      expect(loaded.filter((s) => new RegExp(`/${module}\\.[jt]s$`).test(s))).toEqual([]);
  });

  it('making a Kubernetes client loads it', () => {
    const script = path.join(tmp, 'kube.mts');
    fs.writeFileSync(
      script,
      `import { KubeClient } from ${JSON.stringify(path.join(ROOT, 'src/registrars/kube.ts'))};
await KubeClient.fromYaml(${JSON.stringify(KUBECONFIG)});
`,
    );
    expect(resolvedBy([], script).filter((s) => s === K8S)).toEqual([K8S]);
  });
});
