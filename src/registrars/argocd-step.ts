// The `argocd` step: an `argocd-manager` service account and token in the new cluster, the
// declarative cluster Secret `cluster-<name>` in the devops cluster (as upstream), the Git
// repository registered as a repository Secret, an AppProject `kindler-<name>` per environment,
// and the ApplicationSet whose list generator maps every environment to its branch and project.
// Everything is server-side applied, so a rerun converges.
//
// The AppProject is where what a branch may deploy is enforced (a pull request writes the branch):
// its own cluster and namespace only, no cluster-scoped kinds at all (the bot makes the namespace
// itself, so Argo CD never needs to), no RBAC kinds, and only the environment repository as source.
// Argo CD refuses what the bot's own early check (git/preview-rules.ts) might miss.
import {
  byText,
  APP_NAMESPACE,
  ARGOCD_MANAGER,
  MANAGEMENT_CLUSTER,
  argoApplicationName,
  argoProjectName,
  argoSecretName,
  branchName,
  wrap,
  type Environment,
} from '../domain/index.js';
import type { RepositoryAccess } from '../git/branch-store.js';
import { type Read, type SystemView } from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import { KubeClient, Labelled, SecretData, type KubeObject } from './kube.js';
import {
  AppSetSource,
  UNSET,
  argoClusterSecret,
  argoView,
  reachableServer,
  type ArgoItem,
  appProject,
  appProjectRef,
  repositorySecret,
} from './argocd-view.js';

export interface ArgoSettings {
  namespace: string;
  appSetName: string;
  /** How Argo CD reaches the branches (URL and credentials); throws when it cannot. */
  repository: () => Promise<RepositoryAccess>;
  ingressClass: string;
  /**
   * Replaces 127.0.0.1/0.0.0.0/localhost in a cluster's API URL, so the devops cluster can reach
   * it.
   */
  clusterHost: string;
  tokenWait?: { attempts: number; delayMs: number };
}

const SA_NAMESPACE = 'kube-system';
const TOKEN_SECRET = 'argocd-manager-token';

export class ArgoCdStep implements StepHandler {
  readonly step = 'argocd' as const;
  constructor(
    private readonly devops: (() => Promise<KubeClient>) | null,
    private readonly kubeconfigFor: (env: Environment) => Promise<string>,
    private readonly rows: () => Promise<Environment[]>,
    private readonly settings: ArgoSettings,
  ) {}

  skipReason(): string | null {
    return this.devops ? null : UNSET;
  }

  async observe(read: Read): Promise<SystemView> {
    return argoView(await read(this.devops ? () => this.secrets() : UNSET));
  }

  /** Ours carry type=business (as upstream); the devops cluster's own secret does not. */
  private async secrets(): Promise<ArgoItem[]> {
    const list = await (
      await this.need()
    ).list(
      Labelled,
      'v1',
      'Secret',
      this.settings.namespace,
      'argocd.argoproj.io/secret-type=cluster',
    );
    return list
      .filter((s) => s.metadata.labels?.type === 'business')
      .map((s) => ({
        name: s.metadata.labels?.env ?? s.metadata.name.replace(/^cluster-/, ''),
        secret: s.metadata.name,
        provider: s.metadata.labels?.provider ?? null,
      }));
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    try {
      const repository = await this.settings.repository();
      const target = await KubeClient.fromYaml(await this.kubeconfigFor(env));
      // Made here, not by Argo CD: its project may create no cluster-scoped object.
      await target.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: APP_NAMESPACE },
      });
      const token = await this.managerToken(target);
      const devops = await this.need();
      const server = reachableServer(target.server, this.settings.clusterHost);
      await devops.apply({
        ...argoClusterSecret(this.settings.namespace, env.name),
        type: 'Opaque',
        metadata: {
          ...argoClusterSecret(this.settings.namespace, env.name).metadata,
          labels: {
            'argocd.argoproj.io/secret-type': 'cluster',
            env: env.name,
            provider: env.provider,
            type: 'business',
          },
        },
        stringData: {
          name: env.name,
          server,
          config: JSON.stringify({ bearerToken: token, tlsClientConfig: { insecure: true } }),
        },
      });
      await devops.apply(repositorySecret(this.settings.namespace, repository));
      await devops.apply(appProject(this.settings.namespace, env.name, repository.url));
      await this.refreshAppSet(devops, repository.url, (await this.rows()).concat(env));
      return (
        `registered: secret ${argoSecretName(env.name)} → ${server}; ` +
        `repository ${repository.url}; project ${argoProjectName(env.name)}; ` +
        `ApplicationSet ${this.settings.appSetName} updated`
      );
    } catch (error) {
      throw wrap(`registering "${env.name}" in Argo CD`, error);
    }
  }

  /**
   * What Argo CD needs before any environment is registered, and keeps for all of them: the
   * repository Secret, every environment's AppProject and the ApplicationSet naming them all
   * (`kindler bootstrap`; idempotent, server-side applied).
   */
  async publish(devops: KubeClient): Promise<string> {
    const repository = await this.settings.repository();
    const rows = (await this.rows()).filter((r) => r.name !== MANAGEMENT_CLUSTER);
    await devops.apply(repositorySecret(this.settings.namespace, repository));
    for (const row of rows)
      await devops.apply(appProject(this.settings.namespace, row.name, repository.url));
    await this.refreshAppSet(devops, repository.url, rows);
    return (
      `repository ${repository.url}; ApplicationSet ${this.settings.appSetName} ` +
      `naming ${rows.length} environment${rows.length === 1 ? '' : 's'}`
    );
  }

  /** An orphan's cluster Secret; the ApplicationSet, rendered from the rows, never listed it. */
  async prune(ctx: PruneContext): Promise<string> {
    try {
      const result = await (
        await this.need()
      ).remove(argoClusterSecret(this.settings.namespace, ctx.name));
      return (
        `secret ${argoSecretName(ctx.name)} ` +
        `${result === 'deleted' ? 'deleted' : 'already absent'}`
      );
    } catch (error) {
      throw wrap(`removing "${ctx.name}" from Argo CD`, error);
    }
  }

  async remove(ctx: StepContext): Promise<string> {
    try {
      const devops = await this.need();
      const result = await devops.remove(argoClusterSecret(this.settings.namespace, ctx.env.name));
      const rest = (await this.rows()).filter((r) => r.name !== ctx.env.name);
      // Removing never depends on reaching the repository: the ApplicationSet keeps the URL it has.
      const repoURL = await this.settings.repository().then(
        (r) => r.url,
        async () => (await this.currentAppSet(devops))?.spec?.template?.spec?.source?.repoURL,
      );
      if (repoURL) await this.refreshAppSet(devops, repoURL, rest);
      // After the ApplicationSet stopped naming it: no Application refers to the project any more.
      await devops.remove(appProjectRef(this.settings.namespace, ctx.env.name));
      const appSet = repoURL ? 'ApplicationSet updated' : 'no ApplicationSet to update';
      return result === 'deleted'
        ? `secret ${argoSecretName(ctx.env.name)} deleted; ${appSet}`
        : `secret ${argoSecretName(ctx.env.name)} already absent; ${appSet}`;
    } catch (error) {
      throw wrap(`removing "${ctx.env.name}" from Argo CD`, error);
    }
  }

  private async managerToken(target: KubeClient): Promise<string> {
    await target.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: ARGOCD_MANAGER, namespace: SA_NAMESPACE },
    });
    await target.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ARGOCD_MANAGER}-role-binding` },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'cluster-admin',
      },
      subjects: [{ kind: 'ServiceAccount', name: ARGOCD_MANAGER, namespace: SA_NAMESPACE }],
    });
    const tokenSecret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        name: TOKEN_SECRET,
        namespace: SA_NAMESPACE,
        annotations: { 'kubernetes.io/service-account.name': ARGOCD_MANAGER },
      },
    };
    await target.apply(tokenSecret);
    // The token controller fills the Secret a moment later.
    const { attempts, delayMs } = this.settings.tokenWait ?? { attempts: 20, delayMs: 500 };
    for (let i = 0; i < attempts; i++) {
      const secret = await target.read(tokenSecret, SecretData);
      const token = secret?.data?.token;
      if (token) return Buffer.from(token, 'base64').toString('utf8');
      await new Promise((r) => setTimeout(r, delayMs));
    }
    throw new Error(
      `the token controller did not fill ${SA_NAMESPACE}/${TOKEN_SECRET} ` +
        `within ${(attempts * delayMs) / 1000} s`,
    );
  }

  private async refreshAppSet(devops: KubeClient, repoURL: string, rows: Environment[]) {
    const elements = [
      ...new Map(
        rows.filter((r) => r.name !== MANAGEMENT_CLUSTER).map((r) => [r.name, r]),
      ).values(),
    ]
      .sort((a, b) => byText(a.name, b.name))
      .map((r) => ({
        env: r.name,
        hostEnv: r.name,
        branch: branchName(r.name),
        clusterName: r.name,
        ingressClass: this.settings.ingressClass,
      }));
    await devops.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: { name: this.settings.appSetName, namespace: this.settings.namespace },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [{ list: { elements } }],
        template: {
          metadata: { name: argoApplicationName('{{.env}}') },
          spec: {
            project: argoProjectName('{{.env}}'),
            source: { repoURL, targetRevision: '{{.branch}}', path: 'deploy' },
            destination: { name: '{{.clusterName}}', namespace: APP_NAMESPACE },
            syncPolicy: { automated: { prune: true, selfHeal: true } },
          },
        },
      },
    });
  }

  private currentAppSet(devops: KubeClient) {
    return devops.read(
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'ApplicationSet',
        metadata: { name: this.settings.appSetName, namespace: this.settings.namespace },
      },
      AppSetSource,
    );
  }

  private async need(): Promise<KubeClient> {
    if (!this.devops) throw new Error(UNSET);
    return this.devops();
  }
}
