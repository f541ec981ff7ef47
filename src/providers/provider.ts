// A cluster provider (kind's own design): a small interface over the k3d or kind CLI. create and
// delete are idempotent, like `rm -f`; list/get report what really runs, ports included.
import type { EnvName, ProviderName } from '../domain/index.js';

export interface ClusterSpec {
  name: EnvName;
  httpPort: number;
  httpsPort: number;
  /** k3d: the dedicated network's subnet (network `k3d-<name>`); kind: always null. */
  subnet: string | null;
  nodePort: number;
}

export interface PortMapping {
  host: number;
  container: number;
}

export interface ClusterInfo {
  name: string;
  provider: ProviderName;
  running: boolean;
  ports: PortMapping[];
}

export interface Provider {
  readonly name: ProviderName;
  /** The commands it runs (checked on PATH before an environment is recorded). */
  readonly requires: readonly string[];
  list(signal?: AbortSignal): Promise<ClusterInfo[]>;
  get(name: string, signal?: AbortSignal): Promise<ClusterInfo | null>;
  create(spec: ClusterSpec, signal?: AbortSignal): Promise<'created' | 'exists'>;
  delete(name: EnvName, signal?: AbortSignal): Promise<'deleted' | 'absent'>;
  /** The cluster's kubeconfig YAML (context `<provider>-<name>`). Never logged. */
  kubeconfig(name: EnvName, signal?: AbortSignal): Promise<string>;
}

export interface CliSettings {
  timeoutMs: number;
  k3dImage: string;
  kindNodeImage: string;
  /** kind `networking.apiServerAddress`. */
  kindApiServerAddress: string;
  bins?: { k3d?: string; kind?: string; docker?: string };
}
