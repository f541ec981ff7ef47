// The console's API over a real server and database: each change an operation of the engine,
// recorded with the actor and trigger `dashboard`; the local token may do everything; a GitHub
// user token is checked against GitHub's /user and judged as that user's comment would be (their
// permission on the config repository and .github/kindler.yml), every GitHub request checked
// against GitHub's OpenAPI description.
import fs from 'node:fs';
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { envName } from '../../src/domain/index.js';
import { authorityFor } from '../../src/github/authority.js';
import { PermissionCache } from '../../src/github/permissions.js';
import type { GitHubClient } from '../../src/github/types.js';
import { Engine } from '../../src/lifecycle/engine.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { githubUserLookup } from '../../src/web/principals.js';
import { dashboardHandler } from '../../src/web/handler.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { fakeSystems } from '../support/fake-steps.js';
import { ContractOctokit, expectNoContractViolations } from '../support/github-contract.js';

const API = 'https://api.github.com';
const CONFIG = 'acme/platform-config';
const LOCAL = 'local-console-token-0123456789';
let db: TestDatabase;
let tmp: string;
let rt: Runtime;
let server: http.Server;
let base: string;
let permissions: PermissionCache;
let policy: string | null = null;

const call = async (method: string, route: string, token: string | null, body?: unknown) => {
  const res = await fetch(`${base}/kindler/api/${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-console-'));
  const real = await openRuntime(
    loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp, BASE_DOMAIN: 'example.test' }, tmp),
  );
  const systems = fakeSystems();
  rt = {
    ...real,
    handlers: systems.handlers,
    engine: new Engine({ store: real.store, handlers: systems.handlers, retryDelaysMs: [] }),
  };
  const octokit = new ContractOctokit({ auth: 'ghs_installation0123', request: { retries: 0 } });
  const [owner, repo] = CONFIG.split('/') as [string, string];
  server = await startHttpServer(
    [
      dashboardHandler(rt, {
        token: LOCAL,
        access: {
          githubLogin: githubUserLookup(API),
          decide: async (login, verb, name) =>
            (
              await authorityFor(
                { permissions, configRepo: CONFIG },
                octokit as unknown as GitHubClient,
                { owner, repo },
              )
            ).decide({ verb, envName: name, login }),
        },
      }),
    ],
    '127.0.0.1',
    0,
  );
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  nock.enableNetConnect();
  await new Promise((r) => server.close(r));
  await rt.close();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  permissions = new PermissionCache();
  policy = null;
  // GitHub: who a token is, each user's permission on the config repository, its policy file.
  nock(API)
    .persist()
    // nock 15 hands a reply function the request (a fetch Request).
    .get('/user')
    .reply((request: Request) => {
      const auth = request.headers.get('authorization');
      const login =
        auth === 'token gho_alice' ? 'alice' : auth === 'token gho_rita' ? 'rita' : null;
      return login ? [200, { login, id: 1, type: 'User' }] : [401, { message: 'Bad credentials' }];
    })
    .get(/\/repos\/acme\/platform-config\/collaborators\/(alice|rita)\/permission/)
    .reply((request: Request) => {
      const login = request.url.includes('/alice/') ? 'alice' : 'rita';
      const permission = login === 'alice' ? 'write' : 'read';
      return [200, { permission, role_name: permission, user: { login } }];
    })
    .get(/\/repos\/acme\/platform-config\/contents\/\.github(%2F|\/)kindler\.yml/)
    .reply(() => (policy === null ? [404, { message: 'Not Found' }] : [200, policy]));
});
afterEach(async () => {
  expectNoContractViolations();
  nock.cleanAll();
  for (const env of await rt.store.listEnvironments()) await rt.store.deleteEnvironment(env.name);
  for (const op of await rt.store.listOperations({ status: ['queued', 'running'] }))
    await rt.store.updateOperation(op.id, { status: 'cancelled' });
});

describe('the console API', () => {
  it('creates with the local token: 202 with the operation, recorded with actor and trigger', async () => {
    const r = await call('POST', 'environments', LOCAL, {
      name: 'web1',
      provider: 'kind',
      ttl: '6h',
      portainer: false,
    });
    expect(r.status).toBe(202);
    expect(r.body.operation).toMatchObject({
      kind: 'create',
      envName: 'web1',
      status: 'queued',
      trigger: { source: 'dashboard', actor: 'operator', via: 'token' },
    });
    const env = await rt.store.getEnvironment('web1');
    expect(env).toMatchObject({ provider: 'kind', registerPortainer: false, haproxyRoute: true });
    expect(Math.round((env!.expiresAt!.getTime() - Date.now()) / 60_000)).toBe(360);
    // The same refusals as /env create, and nothing changed.
    const again = await call('POST', 'environments', LOCAL, { name: 'web1' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/^environment "web1" already exists/);
    const bad = await call('POST', 'environments', LOCAL, { name: 'main', provider: 'k3d' });
    expect(bad).toEqual({
      status: 400,
      body: {
        error:
          '"main" is reserved (main, master, develop, release, devops) and is never an environment. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
      },
    });
    const odd = await call('POST', 'environments', LOCAL, { name: 'a b' });
    expect(odd).toEqual({
      status: 400,
      body: { error: '"name" must be one word (a string without spaces)' },
    });
    expect(await call('POST', 'environments', LOCAL, '{"name":')).toEqual({
      status: 400,
      body: { error: 'the body is not JSON' },
    });
    expect((await rt.store.listEnvironments()).map((e) => e.name)).toEqual(['web1']);
  });

  it('without a credential, or with one GitHub does not take, answers 401 and changes nothing', async () => {
    const none = await call('POST', 'environments', null, { name: 'web2' });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/^who is asking\?/);
    expect((await call('POST', 'environments', 'gho_forged', { name: 'web2' })).status).toBe(401);
    expect(await rt.store.getEnvironment('web2')).toBeNull();
  });

  it('judges a GitHub user as their comment: write may create and stop, read gets 403 naming the rule', async () => {
    const created = await call('POST', 'environments', 'gho_alice', { name: 'web3' });
    expect(created.status).toBe(202);
    expect(created.body.operation.trigger).toMatchObject({ source: 'dashboard', actor: 'alice' });
    const refused = await call('DELETE', 'environments/web3', 'gho_rita');
    expect(refused).toEqual({
      status: 403,
      body: {
        error:
          '`/env delete web3` needs write permission on this repository (rule "default write"); you have read.',
      },
    });
    // One operation at a time: the create is still queued.
    const busy = await call('POST', 'environments/web3/stop', 'gho_alice');
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/^environment "web3" already has a create operation/);
    await rt.engine.execute(created.body.operation.id, { owner: 'test:1' });
    const stopped = await call('POST', 'environments/web3/stop', 'gho_alice');
    expect(stopped.status).toBe(202);
    expect(stopped.body.operation).toMatchObject({ kind: 'stop', status: 'queued' });
    const twice = await call('POST', 'environments/web3/stop', 'gho_alice');
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatch(/already has a stop operation/);
  });

  it('a rule of .github/kindler.yml refuses with its name, whatever the request', async () => {
    policy =
      'permissions:\n  rules:\n    - name: platform-deletes\n      verbs: [delete]\n      users: [bob]\n';
    await call('POST', 'environments', 'gho_alice', { name: 'web4' });
    const r = await call('DELETE', 'environments/web4', 'gho_alice');
    expect(r).toEqual({
      status: 403,
      body: {
        error:
          '`/env delete web4` is limited to @bob (rule "platform-deletes" in .github/kindler.yml).',
      },
    });
    // The local operator is not a GitHub user: the token may do everything.
    expect((await call('DELETE', 'environments/web4', LOCAL)).status).toBe(409); // create queued
  });

  it('retry, cancel and extend; an unknown environment is 404', async () => {
    const created = await call('POST', 'environments', LOCAL, { name: 'web5', ttl: '1h' });
    const cancelled = await call('POST', 'environments/web5/cancel', LOCAL);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.operation).toMatchObject({
      id: created.body.operation.id,
      status: 'cancelled',
    });
    const retried = await call('POST', 'environments/web5/retry', LOCAL);
    expect(retried.status).toBe(202);
    expect(retried.body.operation).toMatchObject({
      id: created.body.operation.id,
      status: 'queued',
    });
    const extended = await call('POST', 'environments/web5/extend', LOCAL, { duration: '2h' });
    expect(extended.status).toBe(200);
    const hours = (new Date(extended.body.environment.expiresAt).getTime() - Date.now()) / 3.6e6;
    expect(Math.round(hours)).toBe(3);
    const missing = await call('POST', 'environments/nope/stop', LOCAL);
    expect(missing).toEqual({
      status: 404,
      body: { error: 'environment "nope" does not exist', fix: '/env list' },
    });
    expect(await rt.store.getEnvironment(envName('nope'))).toBeNull();
  });

  it('consistency: check answers the report; a prune is confirmed by the id of its preview, once', async () => {
    // An environment whose row went away behind the engine's back: its systems are orphans.
    const made = await call('POST', 'environments', LOCAL, { name: 'orph' });
    await rt.engine.execute(made.body.operation.id, { owner: 'test:1' });
    await rt.store.deleteEnvironment(envName('orph'));
    const check = await call('POST', 'consistency/check', LOCAL);
    expect(check.status).toBe(200);
    expect(check.body.report.consistent).toBe(false);
    const preview = await call('POST', 'consistency/prune', LOCAL);
    expect(preview.status).toBe(200);
    expect(preview.body.confirmed).toBe(false);
    // (what earlier tests left in the in-memory systems is listed too)
    expect(preview.body.actions.map((a: { name: string }) => a.name)).toContain('orph');
    expect(preview.body.preview.names).toContain('orph');
    expect(preview.body.preview.id).toMatch(/^[0-9a-f]{8}$/);
    const blind = await call('POST', 'consistency/prune', LOCAL, { confirm: true });
    expect(blind.status).toBe(400);
    expect(blind.body.error).toBe('"confirm" must be one word (a string without spaces)');
    const unknown = await call('POST', 'consistency/prune', LOCAL, { confirm: '0badc0de' });
    expect(unknown.status).toBe(409);
    expect(unknown.body).toEqual({
      error:
        'there is no prune preview "0badc0de" to carry out (a preview lasts an hour and is carried out once); nothing was done',
      fix: '/env prune',
    });
    const pruned = await call('POST', 'consistency/prune', LOCAL, {
      confirm: preview.body.preview.id,
    });
    expect(pruned.status).toBe(202);
    expect(pruned.body.operations).toContainEqual(
      expect.objectContaining({
        kind: 'prune',
        envName: 'orph',
        trigger: expect.objectContaining({ source: 'dashboard', actor: 'operator', via: 'token' }),
      }),
    );
    const again = await call('POST', 'consistency/prune', LOCAL, {
      confirm: preview.body.preview.id,
    });
    expect(again.status).toBe(409);
    const read = await call('POST', 'consistency/sync', 'gho_rita');
    expect(read.status).toBe(403);
  });

  it('GET and HEAD stay as they were; other methods on pages are 405', async () => {
    const res = await fetch(`${base}/kindler/environments/web1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${LOCAL}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
