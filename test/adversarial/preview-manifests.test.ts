// Hole 4 of the security review: what a preview may deploy. Every bypass the review found is
// refused with its file, its line and the rule; what a preview needs (the default chart, a plain
// Deployment + Service + Ingress) still passes; and a property: any mix of allowed documents plus
// one forbidden one is always refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestProblems } from '../../src/git/validate-manifests.js';

const HOST = 'whoami.pr-3.example.test';
const at = (ps: { path: string; line: number; message: string }[]) =>
  ps.map((p) => `${p.path}:${p.line}: ${p.message}`);
const one = (content: string, path = 'deploy/x.yaml') =>
  at(manifestProblems([{ path, content }], HOST));

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: traefik/whoami
          securityContext: { capabilities: { add: [NET_BIND_SERVICE] } }
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`;
const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  rules:
    - host: ${HOST}
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;
const CONFIGMAP = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { a: "1" }\n`;

/** Each hole of the review: a document and what its refusal must say. */
const FORBIDDEN: Record<string, { content: string; says: RegExp }> = {
  'a ClusterRoleBinding to cluster-admin': {
    content: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: take-over }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ kind: ServiceAccount, name: default, namespace: default }]
`,
    says: /:2: a rbac\.authorization\.k8s\.io\/ClusterRoleBinding is not something a preview deploys/,
  },
  'a namespaced RoleBinding': {
    content: `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: { name: rb }\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin }\n`,
    says: /RoleBinding is not something a preview deploys/,
  },
  'a CRD': {
    content: `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: evils.example.io }\n`,
    says: /CustomResourceDefinition is not something a preview deploys/,
  },
  'a MutatingWebhookConfiguration': {
    content: `apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: { name: m }\n`,
    says: /MutatingWebhookConfiguration is not something a preview deploys/,
  },
  'a privileged pod with hostPath / in kube-system': {
    content: `apiVersion: v1
kind: Pod
metadata: { name: root, namespace: kube-system }
spec:
  hostPID: true
  volumes: [{ name: root, hostPath: { path: / } }]
  containers:
    - name: c
      image: busybox
      securityContext: { privileged: true, capabilities: { add: [SYS_ADMIN] } }
`,
    says: /:3: namespace "kube-system" is not the environment's[\s\S]*:5: hostPID[\s\S]*:6: a hostPath volume[\s\S]*:10: privileged \(Pod Security Standards: baseline\)[\s\S]*capability SYS_ADMIN added/,
  },
  'an ExternalName Service': {
    content: `apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec:\n  type: ExternalName\n  externalName: metadata.google.internal\n`,
    says: /:5: a Service of type ExternalName reaches outside the cluster/,
  },
  'a LoadBalancer Service': {
    content: `apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { type: LoadBalancer, ports: [{ port: 80 }] }\n`,
    says: /a Service of type LoadBalancer/,
  },
  'a host hidden behind a YAML alias': {
    content: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: i }
x-evil: &evil evil.example
spec:
  rules:
    - host: *evil
`,
    says: /:7: the Ingress's spec\.rules\[\]\.host is "evil\.example"/,
  },
  'a host brought in by a merge key': {
    content: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: i }
spec:
  rules:
    - <<: { host: evil.example }
      http: { paths: [] }
`,
    says: /the Ingress's spec\.rules\[\]\.host is "evil\.example"/,
  },
  'an Ingress rule without a host': {
    content: `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: i }\nspec:\n  rules:\n    - http: { paths: [] }\n`,
    says: /:6: the Ingress's spec\.rules\[\]\.host has no host: it would serve every host/,
  },
  'an Ingress defaultBackend': {
    content: `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: i }\nspec:\n  defaultBackend: { service: { name: s, port: { number: 80 } } }\n`,
    says: /spec\.defaultBackend serves every host/,
  },
  "a Traefik IngressRoute's Host() match": {
    content: `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: { name: r }
spec:
  routes:
    - match: Host(\`${HOST}\`) || Host(\`evil.example\`)
      kind: Rule
`,
    says: /:6: the IngressRoute's spec\.routes\[\]\.match is "evil\.example"/,
  },
  'an IngressRoute that matches every host': {
    content: `apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: { name: r }\nspec:\n  routes:\n    - match: PathPrefix(\`/\`)\n`,
    says: /spec\.routes\[\]\.match has no host/,
  },
  "an HTTPRoute's hostnames": {
    content: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  hostnames: [evil.example]\n`,
    says: /:5: the HTTPRoute's spec\.hostnames\[\] is "evil\.example"/,
  },
  'an HTTPRoute without hostnames': {
    content: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rules: [] }\n`,
    says: /spec\.hostnames has no host/,
  },
  'a GRPCRoute': {
    content: `apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: { name: r }\nspec:\n  hostnames: [evil.example]\n`,
    says: /GRPCRoute's spec\.hostnames\[\] is "evil\.example"/,
  },
  'a Gateway (not a preview kind by default)': {
    content: `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: g }\nspec:\n  listeners: [{ name: h, hostname: evil.example, port: 80, protocol: HTTP }]\n`,
    says: /gateway\.networking\.k8s\.io\/Gateway is not something a preview deploys/,
  },
  'a host port': {
    content: DEPLOYMENT.replace(
      'image: traefik/whoami',
      'image: traefik/whoami\n          ports: [{ containerPort: 80, hostPort: 80 }]',
    ),
    says: /hostPort 80 \(Pod Security Standards: baseline\)/,
  },
  'a CronJob running host-networked': {
    content: `apiVersion: batch/v1
kind: CronJob
metadata: { name: c }
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          hostNetwork: true
          containers: [{ name: c, image: busybox }]
`,
    says: /:10: hostNetwork shares the node's namespaces/,
  },
  'an unsafe sysctl': {
    content: `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  securityContext: { sysctls: [{ name: kernel.core_pattern, value: x }] }\n  containers: [{ name: c, image: busybox }]\n`,
    says: /sysctl kernel\.core_pattern/,
  },
};

describe('what a preview may deploy', () => {
  it('a Deployment, a Service, an Ingress to its own host and a ConfigMap pass', () => {
    for (const content of [DEPLOYMENT, SERVICE, INGRESS, CONFIGMAP])
      expect(one(content)).toEqual([]);
  });

  for (const [hole, { content, says }] of Object.entries(FORBIDDEN))
    it(`refuses ${hole}`, () => {
      const problems = one(content);
      expect(problems.join('\n')).toMatch(says);
      expect(problems.every((p) => p.startsWith('deploy/x.yaml:'))).toBe(true);
    });

  it("refuses a host a chart's template computes, and takes one values.yaml sets", () => {
    const chart = (host: string) => [
      { path: 'deploy/Chart.yaml', content: 'apiVersion: v2\nname: c\nversion: 0.1.0\n' },
      { path: 'deploy/values.yaml', content: `ingress:\n  host: ${HOST}\n` },
      {
        path: 'deploy/templates/ingress.yaml',
        content: `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: i }\nspec:\n  rules:\n    - host: ${host}\n`,
      },
    ];
    expect(at(manifestProblems(chart('{{ .Values.ingress.host }}'), HOST))).toEqual([]);
    expect(at(manifestProblems(chart('{{ .Values.ingress.host | quote }}'), HOST))).toEqual([]);
    for (const computed of [
      '{{ "evil.example" }}',
      '{{ printf "%s" "evil.example" }}',
      '{{ .Values.other }}',
    ])
      expect(at(manifestProblems(chart(computed), HOST)).join('\n')).toContain(
        "deploy/templates/ingress.yaml:6: the Ingress's spec.rules[].host is computed by a template",
      );
  });

  it('refuses a file name with a control character, and a kind outside allowed_kinds', () => {
    const files = [{ path: 'deploy/a\nb.yaml', content: CONFIGMAP }];
    expect(at(manifestProblems(files, HOST))).toEqual([
      '"deploy/a\\nb.yaml":1: a file name holds a control character (a newline, a tab…); rename it',
    ]);
    const only = { allowedKinds: ['apps/Deployment', 'Service'] };
    expect(
      at(manifestProblems([{ path: 'deploy/c.yaml', content: CONFIGMAP }], HOST, 'deploy/', only)),
    ).toEqual([
      'deploy/c.yaml:2: a ConfigMap is not something a preview deploys (allowed: pull_requests.allowed_kinds in .github/kindler.yml)',
    ]);
    expect(
      manifestProblems([{ path: 'deploy/d.yaml', content: DEPLOYMENT }], HOST, 'deploy/', only),
    ).toEqual([]);
  });

  it('an alias bomb is refused, not expanded', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++)
      lines.push(
        `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(9)
          .fill(`*${i === 0 ? 'a' : 'bcdefghij'[i - 1]}`)
          .join(',')}]`,
      );
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: m }\n${lines.join('\n')}\n`;
    expect(one(bomb).join('\n')).toMatch(/cannot be read/);
  });

  it('property: any mix of allowed documents plus one forbidden document is refused', () => {
    const allowed = fc.constantFrom<string>(DEPLOYMENT, SERVICE, INGRESS, CONFIGMAP);
    const forbidden = fc.constantFrom(...Object.values(FORBIDDEN).map((f) => f.content));
    fc.assert(
      fc.property(
        fc.array(allowed, { maxLength: 6 }),
        forbidden,
        fc.nat(),
        fc.boolean(),
        (docs, bad, where, split) => {
          const mixed = [...docs];
          mixed.splice(where % (docs.length + 1), 0, bad);
          const files = split
            ? mixed.map((content, i) => ({ path: `deploy/f${i}.yaml`, content }))
            : [{ path: 'deploy/all.yaml', content: mixed.join('---\n') }];
          return manifestProblems(files, HOST).length > 0;
        },
      ),
      { numRuns: 300 },
    );
    // …and the same mixes without the forbidden one pass.
    fc.assert(
      fc.property(fc.array(allowed, { maxLength: 6 }), (docs) => {
        const files = [{ path: 'deploy/all.yaml', content: docs.join('---\n') }];
        return manifestProblems(files, HOST).length === 0;
      }),
      { numRuns: 100 },
    );
  });
});
