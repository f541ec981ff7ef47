// Pull-request previews end to end through the app: the label, every push and the close arrive as
// GitHub's own webhook payloads; the branch is written, the head read and the Deployments reported
// against a stateful GitHub (test/support/github-git.ts: real git object ids, GitHub's refusals,
// GraphQL executed on GitHub's schema), every request checked against GitHub's OpenAPI
// description. The other systems are the in-memory steps; the branch step and the engine are real.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import pg from 'pg';
import type { Probot } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kindlerApp, receiveDelivery } from '../../src/github/app.js';
import { loadConfig } from '../../src/config/config.js';
import { checkConsistency } from '../../src/consistency/check.js';
import type { Operation } from '../../src/domain/index.js';
import { GitHubBranchStore } from '../../src/git/github-branch-store.js';
import type { GitHubApi } from '../../src/git/github-api.js';
import { GitHubHeadSource, type GitHubReadApi } from '../../src/git/github-head.js';
import { outboxOver, type Outbox } from '../../src/github/outbox.js';
import { PermissionCache } from '../../src/github/permissions.js';
import { operationReporter } from '../../src/github/reporter.js';
import type { GitHubClient } from '../../src/github/types.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { fakeSystems } from '../support/fake-steps.js';
import {
  ContractOctokit,
  contractProbot,
  expectNoContractViolations,
} from '../support/github-contract.js';
import { webhookExample } from '../support/github-fixtures.js';
import { GitHubGit } from '../support/github-git.js';

const API = 'https://api.github.com';
const REPO = 'Codertocat/Hello-World';
const R = `/repos/${REPO}`;
const HOST = 'whoami.pr-12.example.test';

let db: TestDatabase;
let tmp: string;
let rt: Runtime;
let probot: Probot;
let outbox: Outbox;
let github: GitHubGit;
const octokit = new ContractOctokit({ auth: 'ghs_test0123456789', request: { retries: 0 } });
const client = octokit as unknown as GitHubClient;
/** What the bot wrote in the pull request's conversation, by comment id. */
const comments = new Map<number, string>();

/** deploy/ of a head: a chart of `n` templates, its Ingress host the environment's own. */
function chart(
  n: number,
  extra: Record<string, string | null> = {},
): Record<string, string | null> {
  const files: Record<string, string | null> = {
    'deploy/Chart.yaml': 'apiVersion: v2\nname: preview\nversion: 0.1.0\n',
    'deploy/values.yaml': 'ingress:\n  host: ${KINDLER_HOST}\nreplicas: 1\n',
    'deploy/templates/ingress.yaml': [
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata:',
      '  name: {{ .Release.Name }}-web',
      'spec:',
      '  rules:',
      '    - host: {{ .Values.ingress.host }}',
      '',
    ].join('\n'),
  };
  for (let i = 0; i < n - 3; i++)
    files[`deploy/templates/config-${i}.yaml`] =
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n  env: \${KINDLER_ENV}\n  v: "1"\n`;
  return { ...files, ...extra };
}

/** The config repository's .github/kindler.yml (null: none). */
let policy: string | null = null;
let delivery = 0;
function event(action: string, sha: string, labels = ['env:k3d'], headRepo = REPO) {
  const p = webhookExample('pull_request', action === 'synchronize' ? 'synchronize' : 'labeled');
  p.action = action;
  p.number = 12;
  p.pull_request.number = 12;
  p.pull_request.labels = labels.map((name) => ({ name }));
  p.label = action === 'labeled' ? { name: labels[0] } : undefined;
  p.installation = { id: 77 };
  p.repository.owner.login = 'Codertocat';
  p.repository.name = 'Hello-World';
  p.repository.full_name = REPO;
  p.pull_request.html_url = `https://github.com/${REPO}/pull/12`;
  p.pull_request.head.sha = sha;
  p.pull_request.head.repo = { ...p.pull_request.head.repo, full_name: headRepo };
  p.sender = { ...p.sender, login: 'Codertocat' };
  return receiveDelivery(probot, { id: `pr-${++delivery}`, name: 'pull_request', payload: p });
}

let commentId = 7000;
/** A comment in the pull request's conversation, as GitHub delivers it. */
function comment(body: string) {
  const p = webhookExample('issue_comment', 'created');
  p.comment.body = body;
  p.comment.id = ++commentId;
  p.comment.html_url = `https://github.com/${REPO}/pull/12#issuecomment-${commentId}`;
  p.issue.number = 12;
  p.installation = { id: 77 };
  p.sender = { ...p.sender, login: 'Codertocat' };
  return receiveDelivery(probot, { id: `c-${commentId}`, name: 'issue_comment', payload: p });
}

/** Runs every queued operation as the worker does, its reports sent as they go. */
async function runQueued(): Promise<Operation[]> {
  const done: Operation[] = [];
  for (;;) {
    const [op] = await rt.store.listOperations({ status: ['queued'], limit: 1 });
    if (!op) return done;
    const reporter = operationReporter(outbox, { minIntervalMs: 0, client });
    const final = await rt.engine.execute(op.id, { owner: 'test:1', observer: reporter });
    await reporter.flush();
    if (final) done.push(final);
  }
}

/**
 * A Deployment's states: queued, then in progress when a report was sent while its operation ran
 * (the reporter sends whatever the operation is when its turn comes: a quick one may skip it),
 * then `end`.
 */
const expectShown = (id: number, ...end: string[]) =>
  expect([['queued', 'in_progress', ...end].join(), ['queued', ...end].join()]).toContain(
    github.states(id).join(),
  );

const deploymentsOf = () => github.deployments.filter((d) => d.environment === 'pr-12');

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-preview-'));
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: tmp,
      BASE_DOMAIN: 'example.test',
      KINDLER_CONFIG_REPO: REPO,
      KINDLER_PUBLIC_URL: 'https://kindler.example.test',
    },
    tmp,
  );
  const [owner, repo] = REPO.split('/') as [string, string];
  const real = await openRuntime(config, {
    branches: new GitHubBranchStore(octokit as unknown as GitHubApi, {
      owner,
      repo,
      defaultBranch: 'main',
    }),
    heads: (store) => new GitHubHeadSource(async () => octokit as unknown as GitHubReadApi, store),
  });
  await real.store.migrate();
  const fake = fakeSystems();
  const handlers = { ...fake.handlers, branch: real.handlers.branch };
  rt = {
    ...real,
    handlers,
    engine: new Engine({
      store: real.store,
      handlers,
      ready: async (env) => `${env.name} answers`,
      retryDelaysMs: [],
    }),
  };
  nock.disableNetConnect();
});
afterAll(async () => {
  nock.enableNetConnect();
  await rt.close();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  github = new GitHubGit();
  github.repo(REPO);
  github.intercept(API);
  // The conversation, the check runs and the permission the app reads.
  let ids = 9000;
  nock(API)
    .persist()
    .get(/\/contents\/\.github(%2F|\/)kindler\.yml/)
    .reply(() => (policy === null ? [404, { message: 'Not Found' }] : [200, policy]))
    .get(`${R}/collaborators/Codertocat/permission`)
    .reply(200, { permission: 'write', user: { login: 'Codertocat' } })
    .post(`${R}/issues/12/comments`)
    .reply(async (request: Request) => {
      comments.set(++ids, ((await request.json()) as { body: string }).body);
      return [201, { id: ids }];
    })
    .patch(/\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+$/)
    .reply(async (request: Request) => {
      const id = Number(new URL(request.url).pathname.split('/').pop());
      comments.set(id, ((await request.json()) as { body: string }).body);
      return [200, {}];
    })
    .post(`${R}/check-runs`)
    .reply(() => [201, { id: ++ids }])
    .patch(/\/repos\/Codertocat\/Hello-World\/check-runs\/\d+$/)
    .reply(200, {});
  await loadFresh();
});

/** The app on a fresh Probot, with fresh caches (the policy file is read again). */
async function loadFresh() {
  probot = contractProbot();
  outbox = outboxOver(rt, { retryDelaysMs: [], clientFor: async () => client });
  await probot.load(kindlerApp({ rt, permissions: new PermissionCache(), outbox }));
}
afterEach(async () => {
  expectNoContractViolations();
  nock.cleanAll();
  comments.clear();
  policy = null;
  const env = await rt.store.getEnvironment('pr-12');
  if (env) await rt.store.deleteEnvironment(env.name);
  // Each test starts from no history: one pull request, one status comment.
  const pgc = new pg.Client({ connectionString: db.url });
  await pgc.connect();
  await pgc.query('delete from operations');
  await pgc.query('delete from github_writes');
  await pgc.query('delete from environment_versions');
  await pgc.end();
});

describe('pull-request previews', () => {
  it("a labelled pull request deploys its head's deploy/ and shows it as a GitHub Deployment", async () => {
    const head = github.commit(REPO, 'feature', chart(5), 'add a preview chart');
    await event('labeled', head);
    await runQueued();

    const branch = github.files(REPO, 'pr-12', 'deploy/');
    expect(Object.keys(branch).sort()).toEqual(Object.keys(chart(5)).sort());
    expect(branch['deploy/values.yaml']).toBe(`ingress:\n  host: ${HOST}\nreplicas: 1\n`);
    expect(branch['deploy/templates/config-0.yaml']).toContain('env: pr-12');
    expect(github.headMessage(REPO, 'pr-12')).toBe(`kindler: deploy pr-12 from ${REPO}@${head}`);
    // The default branch's own files stay; only deploy/ is the head's.
    expect(github.files(REPO, 'pr-12')['README.md']).toBe(`# ${REPO}\n`);

    const [deployment] = deploymentsOf();
    expect(deployment).toMatchObject({ sha: head, ref: head, transient: true, production: false });
    expect(deployment!.request).toMatchObject({
      environment: 'pr-12',
      transient_environment: true,
      production_environment: false,
      auto_merge: false,
      required_contexts: [],
    });
    expectShown(deployment!.id, 'success');
    expect(deployment!.statuses.at(-1)).toMatchObject({
      environment_url: `http://${HOST}:18090`,
      log_url: 'https://kindler.example.test/kindler/environments/pr-12',
    });
    const env = await rt.store.getEnvironment('pr-12');
    expect(env).toMatchObject({ status: 'ready', deployed: { sha: head } });
    const body = [...comments.values()].at(-1)!;
    expect(body).toContain(`**Deployed:** \`${head.slice(0, 7)}\` since`);
    expect(body).toMatch(
      new RegExp(`\\| \`${head.slice(0, 7)}\` \\| 🚀 deployed \\| http://${HOST}:18090 \\| \\d`),
    );
  });

  it('a push re-deploys, sending only what changed; the previous deployment becomes inactive', async () => {
    const first = github.commit(REPO, 'feature', chart(20));
    await event('labeled', first);
    await runQueued();
    const second = github.commit(REPO, 'feature', {
      'deploy/templates/config-3.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c3\ndata:\n  v: "2"\n',
    });
    github.calls.length = 0;
    await event('synchronize', second);
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'deploy', status: 'success' });
    // The head's listing, the one changed blob, both heads, then tree, commit, ref: 6 calls.
    const gitCalls = github.calls.filter((c) => c.includes('/git/') || c.includes('graphql'));
    expect(gitCalls).toEqual([
      'POST /graphql',
      'POST /graphql',
      'POST /graphql',
      `POST ${R}/git/trees`,
      `POST ${R}/git/commits`,
      `PATCH ${R}/git/refs/heads/pr-12`,
    ]);
    expect(github.files(REPO, 'pr-12', 'deploy/')['deploy/templates/config-3.yaml']).toContain(
      'v: "2"',
    );
    expect(op!.steps.find((s) => s.step === 'branch')?.detail).toBe(
      `updated branch "pr-12" with ${REPO}@${second.slice(0, 7)} (1 file changed)`,
    );
    const [old, current] = deploymentsOf();
    expect(current).toMatchObject({ sha: second });
    expectShown(current!.id, 'success');
    expectShown(old!.id, 'success', 'inactive');
    expect(old!.statuses.at(-1)).toMatchObject({
      description: `replaced by ${second.slice(0, 7)}`,
    });
    // One status comment for the pull request, a row per deployment.
    const body = [...comments.values()].at(-1)!;
    expect(comments.size).toBe(1);
    expect(body).toContain(`| \`${second.slice(0, 7)}\` | 🚀 deployed |`);
    expect(body).toContain(`| \`${first.slice(0, 7)}\` | inactive |`);
  });

  it('two quick pushes deploy only the newest; the older one is superseded before it runs', async () => {
    const first = github.commit(REPO, 'feature', chart(4));
    await event('labeled', first);
    await runQueued();
    const b = github.commit(REPO, 'feature', { 'deploy/templates/config-0.yaml': null });
    const c = github.commit(REPO, 'feature', { 'deploy/templates/extra.yaml': null });
    await event('synchronize', b);
    await event('synchronize', c);
    const ran = await runQueued();
    expect(ran.map((o) => [o.kind, o.trigger.headSha, o.status])).toEqual([
      ['deploy', c, 'success'],
    ]);
    const ops = await rt.store.listOperations({ envName: 'pr-12' as never });
    expect(ops.find((o) => o.trigger.headSha === b)).toMatchObject({
      status: 'cancelled',
      error: `superseded by ${c.slice(0, 7)}`,
    });
    const byHead = (sha: string) => deploymentsOf().find((d) => d.sha === sha)!;
    expect(github.states(byHead(b).id)).toEqual(['queued', 'inactive']);
    expect(byHead(b).statuses.at(-1)).toMatchObject({
      description: `superseded by ${c.slice(0, 7)}`,
    });
    expectShown(byHead(c).id, 'success');
    expect(github.headMessage(REPO, 'pr-12')).toBe(`kindler: deploy pr-12 from ${REPO}@${c}`);
  });

  it('a push while the create runs is deployed when the create ends', async () => {
    const first = github.commit(REPO, 'feature', chart(4));
    await event('labeled', first);
    const [create] = await rt.store.listOperations({ status: ['queued'], limit: 1 });
    // The create is taken by a worker; a push arrives meanwhile.
    await rt.store.claimOperation(create!.id, 'other', 60_000);
    const next = github.commit(REPO, 'feature', { 'deploy/templates/config-0.yaml': null });
    await event('synchronize', next);
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({ source: { sha: next } });
    expect(await rt.store.listOperations({ status: ['queued'] })).toEqual([]);
    // That worker hands it back; the create runs, and the newest head follows it.
    await rt.store.releaseLease(create!.id, 'other');
    const reporter = operationReporter(outbox, { minIntervalMs: 0, client });
    const created = await rt.engine.execute(create!.id, { owner: 'test:1', observer: reporter });
    await reporter.flush();
    const ran = [created!, ...(await runQueued())];
    expect(ran.map((o) => [o.kind, o.trigger.headSha, o.status])).toEqual([
      ['create', first, 'success'],
      ['deploy', next, 'success'],
    ]);
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({ deployed: { sha: next } });
  });

  it('an invalid manifest is refused with its file and line; the previous deployment stays', async () => {
    const good = github.commit(REPO, 'feature', chart(4));
    await event('labeled', good);
    await runQueued();
    const before = github.files(REPO, 'pr-12', 'deploy/');
    const bad = github.commit(REPO, 'feature', {
      'deploy/templates/ingress.yaml': [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata: { name: web }',
        'spec:',
        '  rules:',
        '    - host: evil.example.com',
        '',
      ].join('\n'),
      'deploy/templates/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n',
    });
    await event('synchronize', bad);
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'deploy', status: 'failed', failedStep: 'branch' });
    expect(op!.error).toBe(
      [
        'deploy/ is not deployed: 2 problems; the previous deployment stays',
        'deploy/templates/broken.yaml:5: YAML does not parse: Flow sequence in block collection must be sufficiently indented and end with a ]',
        `deploy/templates/ingress.yaml:6: the Ingress's spec.rules[].host is "evil.example.com"; an environment serves only its own host "${HOST}"`,
      ].join('\n'),
    );
    expect(github.files(REPO, 'pr-12', 'deploy/')).toEqual(before);
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({
      status: 'ready',
      deployed: { sha: good },
    });
    const [previous, refused] = deploymentsOf();
    expectShown(previous!.id, 'success');
    // Statuses show the operation as it is when they are sent: a quick failure may skip in_progress.
    expect(github.states(refused!.id).at(-1)).toBe('failure');
    expect(github.states(refused!.id)).not.toContain('success');
    expect(String(refused!.statuses.at(-1)?.description).length).toBeLessThanOrEqual(140);
  });

  it('what a preview may not deploy is refused by file, line and rule: RBAC, a CRD, a privileged pod, an outside Service, a host behind an alias or computed by a template', async () => {
    const good = github.commit(REPO, 'feature', chart(4));
    await event('labeled', good);
    await runQueued();
    const before = github.files(REPO, 'pr-12', 'deploy/');
    const bad = github.commit(REPO, 'feature', {
      'deploy/templates/admin.yaml': [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: ClusterRoleBinding',
        'metadata: { name: take-over }',
        'roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }',
        'subjects: [{ kind: ServiceAccount, name: default, namespace: whoami }]',
        '---',
        'apiVersion: apiextensions.k8s.io/v1',
        'kind: CustomResourceDefinition',
        'metadata: { name: evils.example.io }',
        '',
      ].join('\n'),
      'deploy/templates/root.yaml': [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: { name: root }',
        'spec:',
        '  volumes: [{ name: root, hostPath: { path: / } }]',
        '  containers:',
        '    - name: c',
        '      image: busybox',
        '      securityContext: { privileged: true }',
        '',
      ].join('\n'),
      'deploy/templates/out.yaml':
        'apiVersion: v1\nkind: Service\nmetadata: { name: out }\nspec: { type: ExternalName, externalName: example.org }\n',
      'deploy/templates/ingress.yaml': [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata: { name: web, annotations: { x: &evil evil.example } }',
        'spec:',
        '  rules:',
        '    - host: *evil',
        '    - host: {{ "also.evil.example" }}',
        '',
      ].join('\n'),
    });
    await event('synchronize', bad);
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'deploy', status: 'failed', failedStep: 'branch' });
    expect(op!.error!.split('\n')).toEqual([
      'deploy/ is not deployed: 7 problems; the previous deployment stays',
      'deploy/templates/admin.yaml:2: a rbac.authorization.k8s.io/ClusterRoleBinding is not something a preview deploys (allowed: pull_requests.allowed_kinds in .github/kindler.yml)',
      'deploy/templates/admin.yaml:8: a apiextensions.k8s.io/CustomResourceDefinition is not something a preview deploys (allowed: pull_requests.allowed_kinds in .github/kindler.yml)',
      `deploy/templates/ingress.yaml:6: the Ingress's spec.rules[].host is "evil.example"; an environment serves only its own host "${HOST}"`,
      `deploy/templates/ingress.yaml:7: the Ingress's spec.rules[].host is computed by a template; only a host written out (or a .Values reference set in values.yaml) can be checked, and it must be "${HOST}"`,
      "deploy/templates/out.yaml:4: a Service of type ExternalName reaches outside the cluster; previews use ClusterIP Services and the environment's Ingress",
      'deploy/templates/root.yaml:5: a hostPath volume (Pod Security Standards: baseline)',
      'deploy/templates/root.yaml:9: privileged (Pod Security Standards: baseline)',
    ]);
    expect(github.files(REPO, 'pr-12', 'deploy/')).toEqual(before);
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({
      status: 'ready',
      deployed: { sha: good },
    });
    const refused = deploymentsOf().at(-1)!;
    expect(github.states(refused.id).at(-1)).toBe('failure');
    expect(github.states(refused.id)).not.toContain('success');
  });

  it('pull_requests.allowed_kinds narrows what a preview may deploy', async () => {
    policy = 'pull_requests:\n  allowed_kinds: [networking.k8s.io/Ingress]\n';
    await loadFresh();
    const head = github.commit(REPO, 'feature', chart(4));
    await event('labeled', head);
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'create', status: 'failed', failedStep: 'branch' });
    expect(op!.error).toContain(
      'deploy/templates/config-0.yaml:2: a ConfigMap is not something a preview deploys',
    );
    expect(github.repo(REPO).refs.has('heads/pr-12')).toBe(false);
  });

  it("a rollback in the conversation renders the earlier head again, shown as that head's Deployment", async () => {
    const first = github.commit(REPO, 'feature', chart(4));
    await event('labeled', first);
    await runQueued();
    const second = github.commit(REPO, 'feature', {
      'deploy/templates/config-0.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c0\ndata:\n  v: "2"\n',
    });
    await event('synchronize', second);
    await runQueued();
    expect(github.headMessage(REPO, 'pr-12')).toBe(`kindler: deploy pr-12 from ${REPO}@${second}`);
    nock(API)
      .persist()
      .post(/\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+\/reactions/)
      .reply(201, {});

    await comment('/env rollback pr-12');
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'update', status: 'success', change: { rollbackTo: 1 } });
    expect(op!.trigger).toMatchObject({
      source: 'issue_comment',
      actor: 'Codertocat',
      repo: REPO,
      issueNumber: 12,
      headSha: first,
    });
    expect(op!.steps.filter((s) => s.status !== 'skipped').map((s) => s.step)).toEqual([
      'record',
      'branch',
      'ready',
    ]);
    expect(github.headMessage(REPO, 'pr-12')).toBe(`kindler: deploy pr-12 from ${REPO}@${first}`);
    expect(github.files(REPO, 'pr-12', 'deploy/')['deploy/templates/config-0.yaml']).toContain(
      'v: "1"',
    );
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({
      status: 'ready',
      source: { sha: first, by: 'Codertocat' },
      deployed: { sha: first },
    });
    // Three deployments: the first head's, the second's (now inactive), the first head's again.
    const [created, pushed, rolled] = deploymentsOf();
    expect([created!.sha, pushed!.sha, rolled!.sha]).toEqual([first, second, first]);
    expectShown(rolled!.id, 'success');
    expect(github.states(pushed!.id).at(-1)).toBe('inactive');
    const versions = await rt.store.versions.list('pr-12');
    expect(versions.map((v) => [v.version, v.config.deployedSha, v.source])).toEqual([
      [3, first, 'issue_comment'],
      [2, second, 'pull_request'],
      [1, first, 'pull_request'],
    ]);
  });

  it('closing deletes the environment and marks its deployment inactive', async () => {
    const head = github.commit(REPO, 'feature', chart(4));
    await event('labeled', head);
    await runQueued();
    await event('closed', head);
    const [op] = await runQueued();
    expect(op).toMatchObject({ kind: 'delete', status: 'success' });
    expect(await rt.store.getEnvironment('pr-12')).toBeNull();
    expect(github.repo(REPO).refs.has('heads/pr-12')).toBe(false);
    const [deployment] = deploymentsOf();
    expectShown(deployment!.id, 'success', 'inactive');
    expect(deployment!.statuses.at(-1)).toMatchObject({ description: 'environment deleted' });
  });

  it('a check knows what a deploy wrote by its tree id: no head is read again', async () => {
    const head = github.commit(REPO, 'feature', chart(6));
    await event('labeled', head);
    await runQueued();
    github.calls.length = 0;
    const report = await checkConsistency(rt);
    expect(report.discrepancies.filter((d) => d.name === 'pr-12')).toEqual([]);
    // One GraphQL page of every branch with its deploy/ tree id; nothing of the head.
    expect(github.calls).toEqual(['POST /graphql']);
    // A branch changed behind the bot's back is drift, with what fixes it.
    github.commit(REPO, 'pr-12', { 'deploy/values.yaml': 'ingress:\n  host: elsewhere\n' });
    const drifted = await checkConsistency(rt);
    expect(drifted.discrepancies.find((d) => d.name === 'pr-12')).toMatchObject({
      system: 'git',
      kind: 'mismatch',
    });
  });

  it("a fork's head deploys its own deploy/ only when deploy_from names it", async () => {
    const FORK = 'mallory/Hello-World';
    const head = github.commit(
      FORK,
      'feature',
      chart(4, { 'deploy/values.yaml': 'ingress:\n  host: ${KINDLER_HOST}\nfork: true\n' }),
    );
    policy = 'pull_requests:\n  forks: true\n';
    await event('labeled', head, ['env:k3d'], FORK);
    await runQueued();
    expect(github.files(REPO, 'pr-12', 'deploy/')['deploy/Chart.yaml']).toContain('name: whoami');
    expect(await rt.store.getEnvironment('pr-12')).toMatchObject({ source: null });
    await event('closed', head, ['env:k3d'], FORK);
    await runQueued();

    policy = `pull_requests:\n  forks: true\n  deploy_from: [${FORK}]\n`;
    await loadFresh();
    await event('reopened', head, ['env:k3d'], FORK);
    await runQueued();
    expect(github.files(REPO, 'pr-12', 'deploy/')['deploy/values.yaml']).toBe(
      `ingress:\n  host: ${HOST}\nfork: true\n`,
    );
    expect(github.headMessage(REPO, 'pr-12')).toBe(`kindler: deploy pr-12 from ${FORK}@${head}`);
  });

  it('a head without deploy/ gets the templates', async () => {
    const head = github.commit(REPO, 'plain', { 'src/app.js': 'x' });
    await event('labeled', head);
    await runQueued();
    const branch = github.files(REPO, 'pr-12', 'deploy/');
    expect(branch['deploy/Chart.yaml']).toContain('name: whoami');
    expect(branch['deploy/values.yaml']).toContain(`host: ${HOST}`);
  });
});
