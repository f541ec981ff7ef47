// The kind cluster config for one environment (kind.x-k8s.io/v1alpha4).
import { stringify } from 'yaml';

export function renderKindConfig(
  spec: {
    name: string;
    httpPort: number;
    httpsPort: number;
    nodePort: number;
    servers: number;
    agents: number;
  },
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
          // The host's http port leads to Traefik's NodePort (kind-ingress.ts), as upstream routes.
          { containerPort: spec.nodePort, hostPort: spec.httpPort, protocol: 'TCP' },
          { containerPort: 443, hostPort: spec.httpsPort, protocol: 'TCP' },
        ],
      },
      // Further control-plane nodes and the workers publish nothing: the first one is the entry.
      ...Array.from({ length: spec.servers - 1 }, () => ({ role: 'control-plane' })),
      ...Array.from({ length: spec.agents }, () => ({ role: 'worker' })),
    ],
  });
}
