// Argo CD in the devops cluster: the pinned install manifest shipped in this package
// (manifests/argocd-install.yaml; KINDLER_ARGOCD_MANIFEST overrides it) server-side applied as
// `kubectl apply --server-side -n argocd` would — CRDs first, and nothing of theirs until the API
// server says they are Established — then waited for until its API server and ApplicationSet
// controller are available, and given what the lifecycle expects (the repository Secret, the
// environments' AppProjects, the ApplicationSet). The admin password Argo CD makes is read from
// its Secret only to check it is there; `kindler bootstrap --show-password` prints it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { KubeClient, SecretData, type KubeObject } from '../registrars/kube.js';
import type { ArgoCdStep } from '../registrars/argocd-step.js';
import { packageRoot } from '../system/package-root.js';
import { waitUntil, type BootstrapContext, type Piece, type Probe } from './piece.js';

/** Kinds without a namespace; every other kind of the manifest goes into ARGOCD_NAMESPACE. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
]);
/** What must be available before Argo CD is: its API server and the ApplicationSet controller. */
const WORKLOADS = [
  { kind: 'Deployment', name: 'argocd-server' },
  { kind: 'Deployment', name: 'argocd-repo-server' },
  { kind: 'Deployment', name: 'argocd-applicationset-controller' },
  { kind: 'StatefulSet', name: 'argocd-application-controller' },
];
const Available = z.object({
  status: z.object({ availableReplicas: z.number().optional() }).optional(),
});
const Conditions = z.object({
  status: z
    .object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional() })
    .optional(),
});
export const ADMIN_SECRET = 'argocd-initial-admin-secret';

export class ArgoCdInstall implements Piece {
  readonly name = 'argocd' as const;
  readonly title = 'Argo CD';

  constructor(
    /** The lifecycle's Argo CD step, over the devops cluster bootstrap made. */
    private readonly step: (devops: () => Promise<KubeClient>) => ArgoCdStep,
  ) {}

  private async available(devops: KubeClient, ns: string): Promise<string[]> {
    const down: string[] = [];
    for (const w of WORKLOADS) {
      const found = await devops.read(
        { apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: ns } },
        Available,
      );
      if (!found || !(found.status?.availableReplicas ?? 0)) down.push(w.name);
    }
    return down;
  }

  async probe(ctx: BootstrapContext): Promise<Probe> {
    const ns = ctx.config.ARGOCD_NAMESPACE;
    let devops: KubeClient;
    try {
      devops = await devopsClient(ctx);
    } catch (error) {
      return { state: 'missing', detail: (error as Error).message };
    }
    const down = await this.available(devops, ns).catch((error: Error) => [error.message]);
    if (down.length === WORKLOADS.length)
      return { state: 'missing', detail: `no Argo CD in namespace ${ns}` };
    if (down.length) return { state: 'down', detail: `not available: ${down.join(', ')}` };
    return { state: 'ok', detail: `Argo CD available in namespace ${ns}` };
  }

  async ensure(ctx: BootstrapContext, found: Probe): Promise<string> {
    const ns = ctx.config.ARGOCD_NAMESPACE;
    const devops = await devopsClient(ctx);
    // Installed and available: what the lifecycle expects is kept, nothing is reinstalled.
    if (found.state === 'ok')
      return `already available in ${ns}; ${await this.step(async () => devops).publish(devops)}`;
    const file =
      ctx.config.KINDLER_ARGOCD_MANIFEST ??
      path.join(packageRoot(), 'manifests/argocd-install.yaml');
    const objects = parseAllDocuments(await fs.readFile(file, 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => Boolean(o?.kind));
    await devops.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    for (const crd of crds) await devops.apply(crd);
    for (const crd of crds)
      await waitUntil(
        `CustomResourceDefinition ${crd.metadata.name} Established`,
        async () => {
          const read = await devops.read(crd, Conditions);
          const established = read?.status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          );
          return established ? true : null;
        },
        { timeoutMs: 60_000, intervalMs: 200, signal: ctx.signal },
      );
    ctx.note(`${crds.length} CRDs established`);
    const rest = objects.filter((o) => o.kind !== 'CustomResourceDefinition');
    for (const object of rest)
      await devops.apply(
        CLUSTER_SCOPED.has(object.kind)
          ? object
          : { ...object, metadata: { ...object.metadata, namespace: ns } },
      );
    ctx.note(`${rest.length} objects applied from ${path.basename(file)}`);
    await waitUntil(
      'Argo CD available',
      async () => ((await this.available(devops, ns)).length === 0 ? true : null),
      { timeoutMs: ctx.config.KINDLER_READY_TIMEOUT * 1000 || 300_000, signal: ctx.signal },
    );
    await waitUntil(
      `the admin password in ${ns}/${ADMIN_SECRET}`,
      () => argoAdminPassword(devops, ns),
      { timeoutMs: 60_000, intervalMs: 200, signal: ctx.signal },
    );
    const published = await this.step(async () => devops).publish(devops);
    const source = `${path.basename(file)} (${objects.length} objects)`;
    return `installed from ${source} in ${ns}; ${published}`;
  }

  async remove(ctx: BootstrapContext): Promise<string> {
    // The devops cluster goes with everything in it; alone, Argo CD's namespace is removed.
    const devops = await devopsClient(ctx).catch(() => null);
    if (!devops) return 'no devops cluster: nothing to remove';
    const result = await devops.remove({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ctx.config.ARGOCD_NAMESPACE },
    });
    return result === 'deleted'
      ? `namespace ${ctx.config.ARGOCD_NAMESPACE} deleted`
      : 'already absent';
  }
}

/** The devops cluster's client, from what bootstrap made (or what the configuration says). */
export function devopsClient(ctx: BootstrapContext): Promise<KubeClient> {
  const context = ctx.settings.DEVOPS_CONTEXT ?? ctx.config.DEVOPS_CONTEXT;
  if (!context) throw new Error('the devops cluster comes first: no DEVOPS_CONTEXT');
  const file = ctx.settings.DEVOPS_KUBECONFIG ?? ctx.config.DEVOPS_KUBECONFIG;
  return KubeClient.fromDefault(context, file ?? ctx.config.KUBECONFIG);
}

/** The admin password Argo CD made (`kindler bootstrap --show-password`). */
export async function argoAdminPassword(devops: KubeClient, ns: string): Promise<string | null> {
  const secret = await devops.read(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: ADMIN_SECRET, namespace: ns } },
    SecretData,
  );
  const value = secret?.data?.password;
  return value ? Buffer.from(value, 'base64').toString('utf8') : null;
}
