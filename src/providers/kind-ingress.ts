// kind clusters come without an ingress controller. As upstream does (scripts/traefik.sh), each
// kind environment gets Traefik in namespace `traefik`, its web entrypoint on the row's NodePort,
// and the default IngressClass `traefik`; the kind config maps that NodePort to the host's http
// port, so `whoami.<env>` answers through the same Host-based route as on k3d (whose k3s ships
// Traefik). Server-side applied: a rerun converges.
import type { Environment } from '../domain/index.js';
import { KubeClient, type KubeObject } from '../registrars/kube.js';

const NS = 'traefik';
const labels = { app: 'traefik' };

export function traefikObjects(nodePort: number, image: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'traefik', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'traefik' },
      rules: [
        {
          apiGroups: [''],
          resources: ['services', 'endpoints', 'secrets'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['networking.k8s.io'],
          resources: ['ingresses', 'ingressclasses'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['networking.k8s.io'],
          resources: ['ingresses/status'],
          verbs: ['update'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'traefik' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'traefik' },
      subjects: [{ kind: 'ServiceAccount', name: 'traefik', namespace: NS }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'traefik', namespace: NS, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'traefik',
            containers: [
              {
                name: 'traefik',
                image,
                args: [
                  '--providers.kubernetesingress',
                  '--entrypoints.web.address=:80',
                  '--ping=true',
                ],
                ports: [{ name: 'web', containerPort: 80 }],
                readinessProbe: { httpGet: { path: '/ping', port: 8080 } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: NS },
      spec: {
        type: 'NodePort',
        selector: labels,
        ports: [{ name: 'web', port: 80, targetPort: 'web', nodePort }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: 'traefik',
        annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
      },
      spec: { controller: 'traefik.io/ingress-controller' },
    },
  ];
}

export class KindIngress {
  constructor(
    private readonly kubeconfigFor: (env: Environment) => Promise<string>,
    private readonly image: string,
  ) {}

  async ensure(env: Environment): Promise<string> {
    const kube = await KubeClient.fromYaml(await this.kubeconfigFor(env));
    for (const object of traefikObjects(env.nodePort, this.image)) await kube.apply(object);
    return `ingress Traefik on NodePort ${env.nodePort}`;
  }
}
