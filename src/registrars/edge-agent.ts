// The Portainer Edge Agent for Kubernetes, as upstream deploys it (register_edge_agent.sh): all in
// namespace portainer-edge, credentials from the portainer-edge-creds secret.
import { PORTAINER_EDGE_NAMESPACE as NS, PORTAINER_EDGE_SECRET } from '../domain/index.js';
import type { KubeObject } from './kube.js';

export function edgeAgentObjects(input: {
  edgeId: string;
  edgeKey: string;
  image: string;
}): KubeObject[] {
  const labels = { app: 'portainer-edge-agent' };
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: PORTAINER_EDGE_SECRET, key } },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: PORTAINER_EDGE_SECRET, namespace: NS },
      type: 'Opaque',
      stringData: { 'edge-id': input.edgeId, 'edge-key': input.edgeKey },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'portainer-edge-agent', namespace: NS },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'portainer-edge-agent' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'cluster-admin',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'portainer-edge-agent', namespace: NS }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'portainer-edge-agent', namespace: NS },
      spec: {
        type: 'ClusterIP',
        selector: labels,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'portainer-edge-agent', namespace: NS, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'portainer-edge-agent',
            containers: [
              {
                name: 'portainer-edge-agent',
                image: input.image,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ containerPort: 80 }],
                env: [
                  { name: 'EDGE', value: '1' },
                  { name: 'EDGE_ID', ...fromSecret('edge-id') },
                  { name: 'EDGE_KEY', ...fromSecret('edge-key') },
                  { name: 'EDGE_INSECURE_POLL', value: '1' },
                  { name: 'CAP_HOST_MANAGEMENT', value: '0' },
                  {
                    name: 'KUBERNETES_POD_IP',
                    valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
                  },
                  { name: 'AGENT_CLUSTER_ADDR', value: 'portainer-edge-agent' },
                ],
              },
            ],
          },
        },
      },
    },
  ];
}
