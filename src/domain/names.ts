// Every external name is a pure function of the environment (docs/style.md rule 4). These strings
// are
// contracts with the upstream Kindler scripts: change them only with a migration.
import type { EnvName } from './env-name.js';
import type { ProviderName } from './provider.js';

export const kubeContext = (name: EnvName, provider: ProviderName): string => `${provider}-${name}`;
export const dockerNetwork = (name: EnvName): string => `k3d-${name}`;
export const branchName = (name: EnvName): string => name;
export const argoSecretName = (name: EnvName): string => `cluster-${name}`;
/** The Argo CD AppProject that bounds what an environment's Application may deploy. */
export const argoProjectName = (name: EnvName | string): string => `kindler-${name}`;
/** The namespace an environment's Application deploys into (the only one its project allows). */
export const APP_NAMESPACE = 'whoami';
export const haproxyAcl = (name: EnvName): string => `host_${name}`;
export const haproxyBackend = (name: EnvName): string => `be_${name}`;
export const portainerEndpointName = (name: EnvName): string => name;
/** archive/<name>-<YYYYmmdd-HHMMSS> (UTC), as upstream's sync_git_from_db.sh names them. */
export function archiveBranchName(name: EnvName, at: Date): string {
  // 2026-12-02T13:04:05.000Z → 20261202-130405
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `archive/${name}-${stamp}`;
}
export const serviceHost = (service: string, name: EnvName, baseDomain: string): string =>
  `${service}.${name}.${baseDomain}`;
export const whoamiHost = (name: EnvName, baseDomain: string): string =>
  serviceHost('whoami', name, baseDomain);
export const PORTAINER_EDGE_NAMESPACE = 'portainer-edge';
export const PORTAINER_EDGE_SECRET = 'portainer-edge-creds';
export const ARGOCD_NAMESPACE = 'argocd';
export const ARGOCD_MANAGER = 'argocd-manager';
/** The Argo CD repository Secret, as upstream's register_git_to_argocd.sh names it. */
export const ARGOCD_REPO_SECRET = 'external-git-whoami';

/** Where environment URLs point: the base domain, and the gateway's http port when there is one. */
export interface UrlSettings {
  baseDomain: string;
  /** HAPROXY_HTTP_PORT when HAProxy is configured; absent or null: no gateway. */
  gatewayPort?: number | null;
  /** KINDLER_PUBLIC_URL: where the dashboard is reached, for links written to GitHub. */
  dashboard?: string | null;
  /** Sites with a gateway of their own: their environments' domain and that gateway's port. */
  sites?: Record<string, { baseDomain: string; gatewayPort: number }>;
}

/**
 * The one URL of an environment, the same in the CLI, comments, check runs, the dashboard and the
 * API: through the gateway when the row has a route and there is one (its site's own, under the
 * site's domain, or the devops side's), otherwise straight to the cluster's published http port;
 * the port is written exactly when it is not 80.
 */
export function environmentUrl(
  env: { name: string; httpPort: number; haproxyRoute: boolean; site?: string },
  settings: UrlSettings,
): string {
  const own = env.site === undefined ? undefined : settings.sites?.[env.site];
  const host = whoamiHost(env.name as EnvName, own?.baseDomain ?? settings.baseDomain);
  const gateway = own ? own.gatewayPort : (settings.gatewayPort ?? null);
  const port = env.haproxyRoute && gateway !== null ? gateway : env.httpPort;
  return `http://${host}${port === 80 ? '' : `:${port}`}`;
}
