// The expected deploy/ tree ids a consistency check compares: always the tree the templates render
// for the row now, whether computed or kept from a check before (a check in another process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchRender } from '../../src/git/branch-render.js';
import { DEPLOY_PREFIX } from '../../src/git/branch-step.js';
import { GitHubHeadSource } from '../../src/git/github-head.js';
import { DEFAULT_TEMPLATES_DIR } from '../../src/git/templates.js';
import { treeSha } from '../../src/git/tree-hash.js';
import type { Environment } from '../../src/domain/index.js';
import type { Store } from '../../src/store/store.js';
import { makeEnv } from '../support/env.js';
import { BACKENDS } from '../support/db.js';

describe.each(BACKENDS)('expected trees on %s', (_backend, open) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let dir: string;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    await store.migrate();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-templates-'));
    fs.cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await cleanup();
  });

  /** What one process makes: its own templates read, the trees kept in `store`. */
  const renderer = (baseDomain = 'example.test', written: Map<string, string>[] = []) =>
    new BranchRender(
      {
        ...store,
        getState: (key) => store.getState(key),
        gitObjects: (ids) => store.gitObjects(ids),
        keepGitObjects: (objects) => (written.push(objects), store.keepGitObjects(objects)),
      },
      GitHubHeadSource.keptOnly(store),
      {
        templatesDir: dir,
        baseDomainOf: (env) => (env.site === 'edge' ? 'edge.test' : baseDomain),
        ingressClass: 'traefik',
      },
    );
  const rendered = async (r: BranchRender, env: Environment) =>
    treeSha(await r.render(env), DEPLOY_PREFIX);
  const envs = [
    makeEnv('dev'),
    makeEnv('web', { provider: 'kind' }),
    makeEnv('far', { site: 'edge' }),
  ];

  it('are the trees the rows render, computed once and then read by every later check', async () => {
    const first: Map<string, string>[] = [];
    const made = await renderer('example.test', first).trees(envs);
    const r = renderer();
    for (const env of envs) expect(made.get(env.name)).toEqual({ tree: await rendered(r, env) });
    expect(new Set(envs.map((e) => (made.get(e.name) as { tree: string }).tree)).size).toBe(3);
    expect(first.map((m) => m.size)).toEqual([3]);

    const later: Map<string, string>[] = [];
    expect(await renderer('example.test', later).trees(envs)).toEqual(made);
    expect(later.map((m) => m.size)).toEqual([0]); // nothing rendered anew
  });

  it('follow what they are rendered from: a variable, a template', async () => {
    const before = await renderer().trees(envs);
    const elsewhere = await renderer('other.test').trees(envs);
    const r = renderer('other.test');
    expect(elsewhere.get('dev')).toEqual({ tree: await rendered(r, envs[0]!) });
    expect(elsewhere.get('dev')).not.toEqual(before.get('dev'));
    expect(elsewhere.get('far')).toEqual(before.get('far')); // its site's domain did not change

    const values = path.join(dir, 'deploy/values.yaml');
    fs.appendFileSync(values, '# edited\n');
    const edited = await renderer().trees(envs);
    const fresh = renderer();
    for (const env of envs) {
      expect(edited.get(env.name)).toEqual({ tree: await rendered(fresh, env) });
      expect(edited.get(env.name)).not.toEqual(before.get(env.name));
    }
  });

  it("say why a row's files cannot be rendered, and keep nothing for it", async () => {
    fs.writeFileSync(path.join(dir, 'deploy/extra.yaml'), 'name: ${KINDLER_NOPE}\n');
    const written: Map<string, string>[] = [];
    const trees = await renderer('example.test', written).trees([makeEnv('dev')]);
    expect(trees.get('dev')).toEqual({
      error: expect.stringContaining('deploy/extra.yaml:1: ${KINDLER_NOPE} is not defined'),
    });
    expect(written.map((m) => m.size)).toEqual([0]);
    fs.rmSync(path.join(dir, 'deploy/extra.yaml'));
  });

  it('say for every row when the templates cannot be read', async () => {
    const missing = new BranchRender(store, GitHubHeadSource.keptOnly(store), {
      templatesDir: path.join(dir, 'absent'),
      baseDomainOf: () => 'example.test',
      ingressClass: 'traefik',
    });
    const trees = await missing.trees(envs);
    for (const env of envs)
      expect(trees.get(env.name)).toEqual({
        error: expect.stringContaining('cannot read branch templates in'),
      });
  });

  it("a pull request's row: the tree its deploy recorded", async () => {
    const pr = makeEnv('pr-7', {
      source: { repo: 'acme/app', sha: 'a'.repeat(40), by: 'alice' },
      deployed: { sha: 'a'.repeat(40), tree: 'b'.repeat(40), at: new Date() },
    });
    expect((await renderer().trees([pr])).get('pr-7')).toEqual({ tree: 'b'.repeat(40) });
  });
});
