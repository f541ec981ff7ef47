// Runs the consistency check: one listing per system (never a call per environment), read in
// parallel, each bounded in time; a system that fails to answer is `unknown`, one that is not
// configured is `skipped`. The report is kept as the latest one (state `consistency:latest`).
import { MANAGEMENT_CLUSTER, messageOf, type Environment } from '../domain/index.js';
import { DEPLOY_PREFIX, branchDrift } from '../git/branch-step.js';
import { treeSha } from '../git/tree-hash.js';
import { backendTarget } from '../render/haproxy.js';
import type { Runtime } from '../runtime.js';
import {
  compare,
  type ArgoItem,
  type ConsistencyReport,
  type Expected,
  type Inventory,
  type Observation,
} from './compare.js';

export const LATEST_REPORT = 'consistency:latest';
/** Branches whose drift is explained file by file (each costs a read of the branch). */
const EXPLAIN_LIMIT = 20;

export async function checkConsistency(
  rt: Runtime,
  options: { now?: Date } = {},
): Promise<ConsistencyReport> {
  const rows = (await rt.store.listEnvironments()).filter((e) => e.name !== MANAGEMENT_CLUSTER);
  const [inventory, expected] = await Promise.all([readInventory(rt), expectations(rt, rows)]);
  const report = compare(expected, inventory, {
    defaultBranch: rt.config.GIT_DEFAULT_BRANCH,
    ...(options.now ? { checkedAt: options.now } : {}),
  });
  await explainBranchDrift(rt, report, rows);
  report.discrepancies.forEach((d) => (d.detail = rt.redactor.redact(d.detail)));
  await rt.store.setState(LATEST_REPORT, report);
  return report;
}

export function readInventory(rt: Runtime): Promise<Inventory> {
  const timeoutMs = rt.config.KINDLER_CLI_TIMEOUT_MS;
  const observe = async <T>(read: (() => Promise<T[]>) | string): Promise<Observation<T>> => {
    if (typeof read === 'string') return { state: 'skipped', reason: read };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
            timeoutMs,
          )),
      );
      return { state: 'ok', items: await Promise.race([read(), timeout]) };
    } catch (error) {
      return { state: 'unknown', reason: rt.redactor.redact(messageOf(error)) };
    } finally {
      clearTimeout(timer);
    }
  };
  const { portainer, devops, gateway } = rt;
  const namespace = rt.config.ARGOCD_NAMESPACE;
  return promiseAll({
    git: observe(() =>
      rt.branches
        .trees(DEPLOY_PREFIX)
        .then((bs) => bs.map((b) => ({ name: b.name, tree: b.tree }))),
    ),
    k3d: observe(() => rt.providers.k3d.list()),
    kind: observe(() => rt.providers.kind.list()),
    portainer: observe(
      portainer
        ? () =>
            portainer
              .listEndpoints()
              .then((es) => es.map((e) => ({ id: e.Id, name: e.Name, type: e.Type ?? null })))
        : 'PORTAINER_URL is not set',
    ),
    argocd: observe(devops ? () => argoSecrets(devops(), namespace) : 'DEVOPS_CONTEXT is not set'),
    haproxy: observe(gateway ? () => gateway.routes() : 'HAPROXY_CONFIG is not set'),
  });
}

async function argoSecrets(
  client: ReturnType<NonNullable<Runtime['devops']>>,
  namespace: string,
): Promise<ArgoItem[]> {
  const list = await client.list<{
    metadata: { name: string; labels?: Record<string, string> };
  }>('v1', 'Secret', namespace, 'argocd.argoproj.io/secret-type=cluster');
  // Ours carry type=business (as upstream); the devops cluster's own secret does not.
  return list
    .filter((s) => s.metadata.labels?.type === 'business')
    .map((s) => ({
      name: s.metadata.labels?.env ?? s.metadata.name.replace(/^cluster-/, ''),
      secret: s.metadata.name,
      provider: s.metadata.labels?.provider ?? null,
    }));
}

async function expectations(rt: Runtime, rows: Environment[]): Promise<Expected[]> {
  const active = new Map(
    (await rt.store.listOperations({ status: ['queued', 'running'], limit: 1000 })).map((op) => [
      op.envName as string,
      op,
    ]),
  );
  const settings = { backendHost: rt.config.HAPROXY_BACKEND_HOST };
  return Promise.all(
    rows.map(async (env): Promise<Expected> => {
      const base = { env, route: backendTarget(env, settings), busy: active.get(env.name) ?? null };
      try {
        return { ...base, tree: treeSha(await rt.render(env), DEPLOY_PREFIX) };
      } catch (error) {
        return { ...base, tree: null, renderError: messageOf(error) };
      }
    }),
  );
}

/** Replaces "deploy/ differs" with the files that differ, for the first few branches. */
async function explainBranchDrift(
  rt: Runtime,
  report: ConsistencyReport,
  rows: Environment[],
): Promise<void> {
  const byName = new Map(rows.map((r) => [r.name as string, r]));
  const drifted = report.discrepancies
    .filter(
      (d) =>
        d.system === 'git' &&
        d.kind === 'mismatch' &&
        byName.has(d.name) &&
        d.detail.startsWith('deploy/'),
    )
    .slice(0, EXPLAIN_LIMIT);
  await Promise.all(
    drifted.map(async (d) => {
      try {
        const env = byName.get(d.name) as Environment;
        const actual = await rt.branches.readFiles(env.name, DEPLOY_PREFIX);
        const diffs = actual ? branchDrift(actual, await rt.render(env)) : [];
        if (diffs.length) d.detail = `deploy/ differs from the templates: ${diffs.join(', ')}`;
      } catch {
        // The summary line stays; the detail is a courtesy.
      }
    }),
  );
}

async function promiseAll<T extends Record<string, Promise<unknown>>>(
  obj: T,
): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const entries = await Promise.all(
    Object.entries(obj).map(async ([k, p]) => [k, await p] as const),
  );
  return Object.fromEntries(entries) as { [K in keyof T]: Awaited<T[K]> };
}
