// The kind cluster config for one environment (kind.x-k8s.io/v1alpha4).
import { stringify } from 'yaml';

export function renderKindConfig(
  spec: { name: string; httpPort: number; httpsPort: number },
  apiServerAddress: string,
): string {
  return stringify({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: spec.name,
    networking: { apiServerAddress },
    nodes: [
      {
        role: 'control-plane',
        extraPortMappings: [
          { containerPort: 80, hostPort: spec.httpPort, protocol: 'TCP' },
          { containerPort: 443, hostPort: spec.httpsPort, protocol: 'TCP' },
        ],
      },
    ],
  });
}
