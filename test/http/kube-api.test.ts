// The apiserver stand-in refuses what a real apiserver refuses: these are the rules the
// registrar tests rely on, checked with raw HTTP so no client can paper over them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi, type KubeApi } from '../support/kube-api.js';

let kube: KubeApi;
let n = 0;
const base = () => `${kube.url}/c${n}`;
const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
  const res = await fetch(`${base()}${path}`, {
    method,
    headers: { authorization: `Bearer t${n}`, 'content-type': type },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const APPSETS = '/apis/argoproj.io/v1alpha1/namespaces/argocd/applicationsets';
const appSet = (extra: object = {}) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'ApplicationSet',
  metadata: { name: 'whoami', namespace: 'argocd', ...extra },
  spec: {
    generators: [],
    template: { metadata: {}, spec: { project: 'default', destination: {} } },
  },
});

beforeAll(async () => {
  kube = await startKubeApi({ tokenDelayMs: 10 });
});
afterAll(() => kube.close());

describe('Kubernetes API stand-in', () => {
  it('answers 401 without the cluster token and 404 for a namespace that does not exist', async () => {
    kube.addCluster(`c${++n}`, `t${n}`);
    const res = await fetch(`${base()}/api/v1/namespaces/default/secrets`);
    expect(res.status).toBe(401);
    const missing = await call('POST', '/api/v1/namespaces/nope/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
    });
    expect(missing).toMatchObject({
      status: 404,
      body: { message: 'namespaces "nope" not found' },
    });
  });

  it('POST of an existing object is 409; a custom resource PUT needs resourceVersion (422), a stale one is 409', async () => {
    kube.addCluster(`c${++n}`, `t${n}`, ['argocd']);
    expect((await call('POST', APPSETS, appSet())).status).toBe(201);
    const again = await call('POST', APPSETS, appSet());
    expect(again).toMatchObject({ status: 409, body: { reason: 'AlreadyExists' } });
    const noVersion = await call('PUT', `${APPSETS}/whoami`, appSet());
    expect(noVersion.status).toBe(422);
    expect(noVersion.body.message).toContain(
      'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
    const stale = await call('PUT', `${APPSETS}/whoami`, appSet({ resourceVersion: '1' }));
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const current = (await call('GET', `${APPSETS}/whoami`)).body.metadata.resourceVersion;
    const ok = await call('PUT', `${APPSETS}/whoami`, appSet({ resourceVersion: current }));
    expect(ok.status).toBe(200);
  });

  it('server-side apply needs a fieldManager, creates, and conflicts with another manager unless forced', async () => {
    kube.addCluster(`c${++n}`, `t${n}`);
    const cm = (value: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'default' },
      data: { k: value },
    });
    const path = '/api/v1/namespaces/default/configmaps/cm';
    const apply = 'application/apply-patch+yaml';
    const noManager = await call('PATCH', path, cm('a'), apply);
    expect(noManager.status).toBe(422);
    expect(noManager.body.message).toContain('fieldManager: Required value');
    expect((await call('PATCH', `${path}?fieldManager=one`, cm('a'), apply)).status).toBe(201);
    const clash = await call('PATCH', `${path}?fieldManager=two`, cm('b'), apply);
    expect(clash).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const forced = await call('PATCH', `${path}?fieldManager=two&force=true`, cm('b'), apply);
    expect(forced.status).toBe(200);
    expect(forced.body.data).toEqual({ k: 'b' });
    const forceOnMerge = await call(
      'PATCH',
      `${path}?force=true`,
      cm('c'),
      'application/merge-patch+json',
    );
    expect(forceOnMerge.status).toBe(422);
  });

  it('validates objects against the published schemas, folds stringData, fills token Secrets later', async () => {
    kube.addCluster(`c${++n}`, `t${n}`);
    const bad = await call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc' },
      spec: { ports: [{ port: 'eighty' }] },
    });
    expect(bad.status).toBe(422);
    const created = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { a: 'b' },
    });
    expect(created.body).toMatchObject({ data: { a: 'Yg==' } });
    expect(created.body.stringData).toBeUndefined();
    const unnamed = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'tok' },
    });
    expect(unnamed.status).toBe(422);
    await call('POST', '/api/v1/namespaces/default/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa' },
    });
    const token = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'tok', annotations: { 'kubernetes.io/service-account.name': 'sa' } },
    });
    expect(token.body.data?.token).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', '/api/v1/namespaces/default/secrets/tok')).body.data.token).toMatch(
      /./,
    );
  });
});
