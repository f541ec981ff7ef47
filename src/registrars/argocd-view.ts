// The objects kindler keeps in Argo CD (an environment's AppProject, the repository Secret, its
// cluster Secret), what the consistency check reads of them, and where a cluster's API server is
// reached from the devops cluster.
import {
  APP_NAMESPACE,
  ARGOCD_REPO_SECRET,
  argoProjectName,
  argoSecretName,
  type Environment,
} from '../domain/index.js';
import type { RepositoryAccess } from '../git/branch-store.js';
import { listingView, type Observation, type SystemView } from '../lifecycle/step.js';
import { z } from 'zod';
import type { KubeObject, KubeRef } from './kube.js';

/** What is read of the ApplicationSet: the repository URL it deploys from. */
export const AppSetSource = z.object({
  spec: z
    .object({
      template: z
        .object({
          spec: z
            .object({ source: z.object({ repoURL: z.string().optional() }).optional() })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

/** The cluster Secret of an environment in the devops cluster. */
export const argoClusterSecret = (namespace: string, name: string): KubeRef => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: argoSecretName(name as Environment['name']), namespace },
});

/** An environment's cluster Secret in the devops cluster, with the provider it is labelled with. */
export interface ArgoItem {
  name: string;
  secret: string;
  provider: string | null;
}

export const UNSET = 'DEVOPS_CONTEXT is not set';

/** The cluster Secrets: one per environment, labelled with the row's provider. */
export function argoView(observation: Observation<ArgoItem>): SystemView {
  return listingView('argocd', observation, {
    assess({ env, repair, recreate }, find) {
      const secret = find(env.name);
      if (!secret)
        return [
          {
            kind: 'missing',
            detail: `no cluster secret ${argoSecretName(env.name)}`,
            fix: recreate,
          },
        ];
      if (secret.provider && secret.provider !== env.provider)
        return [
          {
            kind: 'mismatch',
            detail:
              `secret ${secret.secret} says ${secret.provider}, ` +
              `the database says ${env.provider}`,
            fix: repair,
          },
        ];
      return [];
    },
    what: (s) => `Argo CD secret ${s.secret}`,
  });
}

export function reachableServer(server: string, host: string): string {
  return server.replace(/^(https?:\/\/)(127\.0\.0\.1|0\.0\.0\.0|localhost)(?=[:/]|$)/, `$1${host}`);
}

export function appProjectRef(namespace: string, name: Environment['name']): KubeRef {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: argoProjectName(name), namespace: namespace },
  };
}

/** What the environment's Application may deploy, enforced by Argo CD. */
export function appProject(
  namespace: string,
  name: Environment['name'],
  repoURL: string,
): KubeObject {
  return {
    ...appProjectRef(namespace, name),
    spec: {
      description: `kindler-bot: ${name}'s own cluster and namespace; namespaced kinds, no RBAC`,
      sourceRepos: [repoURL],
      destinations: [{ name, namespace: APP_NAMESPACE }],
      clusterResourceWhitelist: [],
      namespaceResourceBlacklist: ['Role', 'RoleBinding'].map((kind) => ({
        group: 'rbac.authorization.k8s.io',
        kind,
      })),
    },
  };
}

export function repositorySecret(namespace: string, repository: RepositoryAccess): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: ARGOCD_REPO_SECRET,
      namespace: namespace,
      labels: { 'argocd.argoproj.io/secret-type': 'repository' },
    },
    stringData: { type: 'git', url: repository.url, ...repository.credentials },
  };
}
