// A Kubernetes API server stand-in on loopback that keeps the apiserver's rules, so a client that
// would be refused by a real cluster is refused here too (no test may mock a success the real
// server would refuse). One process serves many clusters, each under its own path prefix
// (`<url>/<cluster>`), which also exercises kubeconfig server URLs with a path.
//
// Rules kept (k8s.io/apiserver handlers and registry strategies):
// - discovery (`/api/v1`, `/apis/<group>/<version>`) lists the resources served;
// - bearer token per cluster, else 401; namespaced objects need their namespace (404);
// - POST of an existing object → 409 AlreadyExists; the body's namespace must match the URL (400);
// - PUT of a missing object → 404; PUT of a custom resource without metadata.resourceVersion →
//   422; a stale resourceVersion → 409 Conflict; a Secret's type is immutable (422);
// - server-side apply (PATCH application/apply-patch+yaml) requires fieldManager (422), creates
//   what is missing, and conflicts (409) with fields another manager set unless force=true;
//   `force` on any other patch → 422;
// - Secret stringData is folded into base64 data; a service-account token Secret needs the
//   service-account.name annotation and is filled later by the token controller;
// - every object stored is validated with kubernetes-models / @kubernetes-models/argo-cd (422);
// - with `strictCrds`, a custom resource is served (discovery, paths) only once its
//   CustomResourceDefinition is stored and Established, which its controller sets a moment later;
// - controllers set status later: a Deployment's or StatefulSet's replicas become available
//   (`controllerDelayMs`), and Argo CD's argocd-server, once available, writes
//   `argocd-initial-admin-secret` as the real one does at its first start.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as argo from '@kubernetes-models/argo-cd';
import * as models from 'kubernetes-models';
import YAML from 'yaml';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
  custom?: boolean;
}

const RESOURCES: Record<string, Resource[]> = {
  v1: [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'secrets', kind: 'Secret', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
  ],
  'apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'daemonsets', kind: 'DaemonSet', namespaced: true },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  ],
  'apiextensions.k8s.io/v1': [
    { name: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
  ],
  'rbac.authorization.k8s.io/v1': [
    { name: 'clusterroles', kind: 'ClusterRole', namespaced: false },
    { name: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
    { name: 'roles', kind: 'Role', namespaced: true },
    { name: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  ],
  'networking.k8s.io/v1': [
    { name: 'ingresses', kind: 'Ingress', namespaced: true },
    { name: 'ingressclasses', kind: 'IngressClass', namespaced: false },
    { name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  ],
  'argoproj.io/v1alpha1': [
    { name: 'applicationsets', kind: 'ApplicationSet', namespaced: true, custom: true },
    { name: 'applications', kind: 'Application', namespaced: true, custom: true },
    { name: 'appprojects', kind: 'AppProject', namespaced: true, custom: true },
  ],
};

/** Every model class of kubernetes-models and the Argo CD models, by `apiVersion/kind`. */
const MODELS = (() => {
  const found = new Map<string, new (data: unknown) => { validate(): void }>();
  const visit = (value: unknown, depth: number): void => {
    if (!value || depth > 3) return;
    if (typeof value === 'function') {
      const m = value as unknown as { apiVersion?: string; kind?: string };
      if (typeof m.apiVersion === 'string' && typeof m.kind === 'string')
        found.set(`${m.apiVersion}/${m.kind}`, value as never);
      return;
    }
    if (typeof value === 'object')
      for (const v of Object.values(value as object)) visit(v, depth + 1);
  };
  visit(models, 0);
  visit(argo, 0);
  return found;
})();

/** Validates an object against its published schema; throws with the schema's complaint. */
export function validateKubeObject(object: Obj): void {
  const Model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  if (!Model) throw new Error(`no model for ${object.apiVersion}/${object.kind}`);
  new Model(object).validate();
}

export interface KubeRequest {
  cluster: string;
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  status: number;
}

interface Cluster {
  token: string;
  objects: Map<string, Obj>;
  /** Per object key: manager → the field paths (leaf values) it last set. */
  owners: Map<string, Map<string, Record<string, string>>>;
}

export interface KubeApi {
  /** Base URL; a cluster's server is `${url}/${cluster}`. */
  url: string;
  requests: KubeRequest[];
  /** Adds a cluster (its namespaces default, kube-system, and any given). */
  addCluster(name: string, token: string, namespaces?: string[]): void;
  kubeconfig(cluster: string, context?: string): string;
  get(cluster: string, apiVersion: string, kind: string, name: string, ns?: string): Obj | null;
  list(cluster: string, kind?: string): Obj[];
  /** Arranges state as a controller or a person would have left it (validated, no request). */
  put(cluster: string, object: Obj): void;
  remove(cluster: string, object: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): void;
  /** The next `times` requests matching method+path answer `status` (fault injection). */
  fail(match: { method: string; path: RegExp }, status: number, times?: number): void;
  close(): Promise<void>;
}

export async function startKubeApi(
  options: {
    tokenDelayMs?: number;
    /** Clusters made by the k3d/kind fakes (`k3d-<name>`, token fake-token-<name>) exist on use. */
    fakeClusters?: boolean;
    /** Custom resources exist only once their CRD is stored and Established. */
    strictCrds?: boolean;
    /** How long the controllers take to set status (CRDs, Deployments, StatefulSets). */
    controllerDelayMs?: number;
  } = {},
): Promise<KubeApi> {
  const clusters = new Map<string, Cluster>();
  const requests: KubeRequest[] = [];
  const faults: { method: string; path: RegExp; status: number; times: number }[] = [];
  let version = 1000;
  const nextVersion = () => String(++version);

  const addCluster = (name: string, token: string, namespaces: string[] = []) => {
    const cluster: Cluster = { token, objects: new Map(), owners: new Map() };
    clusters.set(name, cluster);
    for (const ns of ['default', 'kube-system', 'kube-public', ...namespaces])
      store(cluster, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  };

  const store = (cluster: Cluster, object: Obj, existing?: Obj): Obj => {
    const saved: Obj = structuredClone(object);
    if (saved.kind === 'Secret') foldStringData(saved);
    saved.metadata = {
      ...saved.metadata,
      uid: existing?.metadata.uid ?? crypto.randomUUID(),
      creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: nextVersion(),
    };
    cluster.objects.set(keyOf(object), saved);
    if (isTokenSecret(saved) && !(saved.data as { token?: string } | undefined)?.token)
      fillTokenLater(cluster, saved);
    if (!existing) controllersLater(cluster, saved);
    if (saved.kind === 'ApplicationSet') applicationSetLater(cluster, saved);
    return saved;
  };

  /** The controllers that act on a new object a moment after it is stored. */
  const controllersLater = (cluster: Cluster, object: Obj) => {
    const delay = options.controllerDelayMs ?? 100;
    const key = keyOf(object);
    const later = (act: (current: Obj) => void) =>
      setTimeout(() => {
        const current = cluster.objects.get(key);
        if (current) act(current);
      }, delay);
    if (object.kind === 'CustomResourceDefinition')
      later((crd) => {
        crd.status = {
          conditions: [
            { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts' },
            { type: 'Established', status: 'True', reason: 'InitialNamesAccepted' },
          ],
          acceptedNames: (crd.spec as { names?: unknown }).names,
          storedVersions: [],
        };
        crd.metadata.resourceVersion = nextVersion();
      });
    if (object.kind === 'Deployment' || object.kind === 'StatefulSet')
      later((workload) => {
        const replicas = Number((workload.spec as { replicas?: number }).replicas ?? 1);
        workload.status = {
          observedGeneration: 1,
          replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          updatedReplicas: replicas,
        };
        workload.metadata.resourceVersion = nextVersion();
        const ns = workload.metadata.namespace!;
        // argocd-server's first start: the initial admin password (util/settings, initial-admin).
        if (workload.kind === 'Deployment' && workload.metadata.name === 'argocd-server') {
          const secret = `v1/Secret/${ns}/argocd-initial-admin-secret`;
          if (!cluster.objects.has(secret))
            store(cluster, {
              apiVersion: 'v1',
              kind: 'Secret',
              type: 'Opaque',
              metadata: { name: 'argocd-initial-admin-secret', namespace: ns },
              data: {
                password: Buffer.from(crypto.randomBytes(12).toString('base64url')).toString(
                  'base64',
                ),
              },
            });
        }
      });
  };

  /**
   * Argo CD's ApplicationSet controller and application controller, as far as kindler-bot reads
   * them: each list element becomes an Application rendered from the template (`{{.key}}`
   * replaced), Synced and Healthy a moment later; an element gone takes its Application with it.
   */
  const applicationSetLater = (cluster: Cluster, appSet: Obj) => {
    setTimeout(() => {
      const current = cluster.objects.get(keyOf(appSet));
      if (!current || current.metadata.resourceVersion !== appSet.metadata.resourceVersion) return;
      const spec = current.spec as {
        generators?: { list?: { elements?: Record<string, string>[] } }[];
        template?: unknown;
      };
      const elements = spec.generators?.flatMap((g) => g.list?.elements ?? []) ?? [];
      const ns = current.metadata.namespace!;
      const wanted = new Set<string>();
      for (const element of elements) {
        const rendered = JSON.parse(
          JSON.stringify(spec.template).replace(
            /\{\{\.(\w+)\}\}/g,
            (_m, k: string) => element[k] ?? '',
          ),
        ) as { metadata: { name: string }; spec: unknown };
        const name = rendered.metadata.name;
        wanted.add(name);
        const key = `argoproj.io/v1alpha1/Application/${ns}/${name}`;
        const app: Obj = {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {
            name,
            namespace: ns,
            labels: { 'kindler.test/appset': current.metadata.name },
          },
          spec: rendered.spec,
          status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } },
        };
        if (!validateStored(app)) store(cluster, app, cluster.objects.get(key));
      }
      for (const [key, o] of cluster.objects)
        if (
          o.kind === 'Application' &&
          o.metadata.labels?.['kindler.test/appset'] === current.metadata.name &&
          !wanted.has(o.metadata.name)
        )
          cluster.objects.delete(key);
    }, options.controllerDelayMs ?? 100);
  };

  /** Whether `resource` of `apiVersion` is served in `cluster` (a custom one once its CRD is). */
  const served = (cluster: Cluster) => (apiVersion: string, resource: Resource) => {
    if (!options.strictCrds || !resource.custom) return true;
    const group = apiVersion.split('/')[0];
    const crd = cluster.objects.get(
      `apiextensions.k8s.io/v1/CustomResourceDefinition//${resource.name}.${group}`,
    );
    const conditions = (crd?.status as { conditions?: { type: string; status: string }[] })
      ?.conditions;
    return Boolean(conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
  };

  // The token controller (pkg/controller/serviceaccount/tokens_controller.go): fills the Secret
  // when its service account exists, deletes it when it does not.
  const fillTokenLater = (cluster: Cluster, secret: Obj) => {
    setTimeout(() => {
      const key = keyOf(secret);
      const current = cluster.objects.get(key);
      if (!current) return;
      const ns = current.metadata.namespace!;
      const saName = current.metadata.annotations?.['kubernetes.io/service-account.name'] ?? '';
      const sa = cluster.objects.get(`v1/ServiceAccount/${ns}/${saName}`);
      if (!sa) {
        cluster.objects.delete(key);
        return;
      }
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      current.data = {
        ...(current.data as object),
        token: b64(`eyJhbGciOiJSUzI1NiJ9.${crypto.randomBytes(24).toString('hex')}.sig`),
        'ca.crt': b64('-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n'),
        namespace: b64(ns),
      };
      current.metadata.annotations = {
        ...current.metadata.annotations,
        'kubernetes.io/service-account.uid': String(sa.metadata.uid),
      };
      current.metadata.resourceVersion = nextVersion();
    }, options.tokenDelayMs ?? 30);
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, clusterName, ...rest] = url.pathname.split('/');
      const path = `/${rest.join('/')}`;
      const query = Object.fromEntries(url.searchParams);
      const answer = (status: number, payload: unknown) => {
        requests.push({
          cluster: clusterName ?? '',
          method: req.method ?? '',
          path,
          query,
          contentType: req.headers['content-type'],
          status,
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const fake = /^(k3d|kind)-(.+)$/.exec(clusterName ?? '');
      if (options.fakeClusters && fake && !clusters.has(clusterName!))
        addCluster(clusterName!, `fake-token-${fake[2]}`);
      const cluster = clusters.get(clusterName ?? '');
      if (!cluster) return answer(404, status(404, 'NotFound', 'the server could not find it'));
      if (req.headers.authorization !== `Bearer ${cluster.token}`)
        return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
      const fault = faults.find((f) => f.method === req.method && f.path.test(path));
      if (fault) {
        if (--fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
        return answer(fault.status, status(fault.status, 'InternalError', 'injected fault'));
      }
      try {
        const [code, payload] = handle(cluster, req.method ?? 'GET', path, query, {
          contentType: req.headers['content-type'] ?? '',
          body,
        });
        answer(code, payload);
      } catch (error) {
        answer(500, status(500, 'InternalError', (error as Error).message));
      }
    });
  });

  const handle = (
    cluster: Cluster,
    method: string,
    path: string,
    query: Record<string, string>,
    input: { contentType: string; body: string },
  ): [number, unknown] => {
    const route = parsePath(path, served(cluster));
    if (!route)
      return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    if (route.discovery) {
      return [
        200,
        {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: route.apiVersion,
          resources: route.resources.map((r) => ({
            name: r.name,
            singularName: r.kind.toLowerCase(),
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
          })),
        },
      ];
    }
    const { resource, apiVersion, namespace, name } = route;
    const gr = `${resource.name}${apiVersion.includes('/') ? `.${apiVersion.split('/')[0]}` : ''}`;
    if (resource.namespaced && namespace && !nsExists(cluster, namespace) && method !== 'GET')
      return [
        404,
        status(404, 'NotFound', `namespaces "${namespace}" not found`, 'namespaces', namespace),
      ];
    const key = name && `${apiVersion}/${resource.kind}/${namespace ?? ''}/${name}`;
    const existing = key ? cluster.objects.get(key) : undefined;
    const notFound = (): [number, unknown] => [
      404,
      status(404, 'NotFound', `${gr} "${name}" not found`, resource.name, name),
    ];

    if (method === 'GET' && !name) {
      const selector = parseSelector(query.labelSelector);
      const items = [...cluster.objects.values()].filter(
        (o) =>
          o.apiVersion === apiVersion &&
          o.kind === resource.kind &&
          (!namespace || o.metadata.namespace === namespace) &&
          selector.every(([k, v]) => o.metadata.labels?.[k] === v),
      );
      return [
        200,
        {
          apiVersion,
          kind: `${resource.kind}List`,
          metadata: { resourceVersion: String(version) },
          items,
        },
      ];
    }
    if (method === 'GET') return existing ? [200, existing] : notFound();
    if (method === 'DELETE') {
      if (!existing) return notFound();
      cluster.objects.delete(key!);
      cluster.owners.delete(key!);
      if (resource.kind === 'Namespace')
        for (const [k, o] of cluster.objects)
          if (o.metadata.namespace === name) cluster.objects.delete(k);
      return [
        200,
        {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, kind: resource.name },
        },
      ];
    }

    const isApply =
      method === 'PATCH' && input.contentType.startsWith('application/apply-patch+yaml');
    if (query.force !== undefined && !isApply)
      return invalid(
        'PatchOptions.meta.k8s.io',
        '',
        'force: Forbidden: may not be specified for non-apply patch',
      );
    let object: Obj;
    try {
      object = (isApply ? YAML.parse(input.body) : JSON.parse(input.body)) as Obj;
    } catch (error) {
      return [
        400,
        status(400, 'BadRequest', `error decoding the body: ${(error as Error).message}`),
      ];
    }
    if (object?.apiVersion !== apiVersion || object.kind !== resource.kind)
      return [
        400,
        status(
          400,
          'BadRequest',
          `the API version in the data (${object?.apiVersion}) does not match the expected API version (${apiVersion}) or the kind (${object?.kind}) is not ${resource.kind}`,
        ),
      ];
    object.metadata ??= { name: '' };
    if (resource.namespaced) {
      if (object.metadata.namespace && object.metadata.namespace !== namespace)
        return [
          400,
          status(
            400,
            'BadRequest',
            'the namespace of the provided object does not match the namespace sent on the request',
          ),
        ];
      object.metadata.namespace = namespace!;
    }
    const objName = object.metadata.name;
    const refused = validateStored(object);

    if (method === 'POST') {
      if (!objName)
        return invalid(
          `${resource.kind}`,
          '',
          'metadata.name: Required value: name or generateName is required',
        );
      const k = `${apiVersion}/${resource.kind}/${namespace ?? ''}/${objName}`;
      if (cluster.objects.has(k))
        return [
          409,
          status(409, 'AlreadyExists', `${gr} "${objName}" already exists`, resource.name, objName),
        ];
      if (refused) return invalid(gr, objName, refused);
      setOwner(cluster, k, query.fieldManager ?? 'unknown', object);
      return [201, store(cluster, object)];
    }
    if (objName !== name)
      return [
        400,
        status(
          400,
          'BadRequest',
          `the name of the object (${objName}) does not match the name on the URL (${name})`,
        ),
      ];
    if (method === 'PUT') {
      if (!existing) return notFound();
      const rv = object.metadata.resourceVersion;
      if (!rv && resource.custom)
        return invalid(
          gr,
          name,
          'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        );
      if (rv && rv !== existing.metadata.resourceVersion) return conflict(gr, name);
      if (refused) return invalid(gr, name, refused);
      if (resource.kind === 'Secret' && (object.type ?? 'Opaque') !== (existing.type ?? 'Opaque'))
        return invalid(gr, name, 'type: Invalid value: field is immutable');
      setOwner(cluster, key!, query.fieldManager ?? 'unknown', object);
      return [200, store(cluster, object, existing)];
    }
    if (isApply) {
      if (!query.fieldManager)
        return invalid(
          'PatchOptions.meta.k8s.io',
          '',
          'fieldManager: Required value: is required for apply patch',
        );
      const rv = object.metadata.resourceVersion;
      if (rv && existing && rv !== existing.metadata.resourceVersion) return conflict(gr, name!);
      const manager = query.fieldManager;
      const mine = flatten(object);
      if (existing && query.force !== 'true') {
        const clashes: string[] = [];
        for (const [other, fields] of cluster.owners.get(key!) ?? [])
          if (other !== manager)
            for (const [field, value] of Object.entries(fields))
              if (field in mine && mine[field] !== value) clashes.push(`.${field} (${other})`);
        if (clashes.length)
          return [
            409,
            status(
              409,
              'Conflict',
              `Apply failed with ${clashes.length} conflict(s): conflicts with ${clashes.join(', ')}`,
              resource.name,
              name,
            ),
          ];
      }
      const previous = cluster.owners.get(key!)?.get(manager) ?? {};
      const base = existing ? prune(structuredClone(existing), previous, mine) : undefined;
      const merged = base ? deepMerge(base, object) : object;
      if (existing?.kind === 'Secret' && (merged.type ?? 'Opaque') !== (existing.type ?? 'Opaque'))
        return invalid(gr, name!, 'type: Invalid value: field is immutable');
      delete merged.metadata.resourceVersion;
      const why = validateStored(merged);
      if (why) return invalid(gr, name!, why);
      setOwner(cluster, key!, manager, object, query.force === 'true');
      // An apply that changes nothing leaves the object as it was (its resourceVersion included).
      if (existing && sameContent(existing, merged)) return [200, existing];
      return [existing ? 200 : 201, store(cluster, merged, existing)];
    }
    return [
      405,
      status(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      ),
    ];
  };

  const setOwner = (cluster: Cluster, key: string, manager: string, object: Obj, force = false) => {
    const owners = cluster.owners.get(key) ?? new Map<string, Record<string, string>>();
    const fields = flatten(object);
    if (force)
      for (const [other, owned] of owners)
        if (other !== manager) for (const f of Object.keys(fields)) delete owned[f];
    owners.set(manager, fields);
    cluster.owners.set(key, owners);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    addCluster,
    kubeconfig(cluster, context = cluster) {
      const c = clusters.get(cluster);
      if (!c) throw new Error(`no cluster ${cluster}`);
      return [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${context}`,
        `clusters: [{ name: ${context}, cluster: { server: "${url}/${cluster}", insecure-skip-tls-verify: true } }]`,
        `contexts: [{ name: ${context}, context: { cluster: ${context}, user: admin-${context} } }]`,
        `users: [{ name: admin-${context}, user: { token: ${c.token} } }]`,
        '',
      ].join('\n');
    },
    get(cluster, apiVersion, kind, name, ns) {
      return (
        clusters.get(cluster)?.objects.get(`${apiVersion}/${kind}/${ns ?? ''}/${name}`) ?? null
      );
    },
    list(cluster, kind) {
      return [...(clusters.get(cluster)?.objects.values() ?? [])].filter(
        (o) => !kind || o.kind === kind,
      );
    },
    put(cluster, object) {
      const c = clusters.get(cluster);
      if (!c) throw new Error(`no cluster ${cluster}`);
      const why = validateStored(object);
      if (why) throw new Error(why);
      store(c, object, c.objects.get(keyOf(object)));
    },
    remove(cluster, object) {
      clusters.get(cluster)?.objects.delete(keyOf(object as Obj));
    },
    fail(match, code, times = 1) {
      faults.push({ ...match, status: code, times });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parsePath(
  path: string,
  served: (apiVersion: string, resource: Resource) => boolean,
):
  | { discovery: true; apiVersion: string; resources: Resource[] }
  | { discovery?: false; apiVersion: string; resource: Resource; namespace?: string; name?: string }
  | null {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') [apiVersion, rest] = ['v1', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3)
    [apiVersion, rest] = [`${parts[1]}/${parts[2]}`, parts.slice(3)];
  else return null;
  const resources = RESOURCES[apiVersion]?.filter((r) => served(apiVersion, r));
  if (!resources?.length) return null;
  if (rest.length === 0) return { discovery: true, apiVersion, resources };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = resources.find((r) => r.name === rest[0]);
  if (!resource || rest.length > 2) return null;
  if (resource.namespaced !== Boolean(namespace) && rest.length === 2) return null;
  return {
    apiVersion,
    resource,
    ...(namespace ? { namespace } : {}),
    ...(rest[1] ? { name: rest[1] } : {}),
  };
}

/** Equal but for what the server itself keeps in metadata (uid, resourceVersion, creation). */
function sameContent(stored: Obj, candidate: Obj): boolean {
  const strip = (o: Obj) => {
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...metadata } = o.metadata;
    const copy: Record<string, unknown> = { ...o, metadata };
    if (o.kind === 'Secret') delete copy.stringData;
    return JSON.stringify(sortKeys(copy));
  };
  const candidateCopy = structuredClone(candidate);
  if (candidateCopy.kind === 'Secret') foldStringData(candidateCopy);
  return strip(stored) === strip(candidateCopy);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

function nsExists(cluster: Cluster, namespace: string): boolean {
  return cluster.objects.has(`v1/Namespace//${namespace}`);
}

function keyOf(o: Obj): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function isTokenSecret(o: Obj): boolean {
  return o.kind === 'Secret' && o.type === 'kubernetes.io/service-account-token';
}

function foldStringData(secret: Obj): void {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (!stringData) return;
  const data = { ...(secret.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v).toString('base64');
  secret.data = data;
  delete secret.stringData;
}

function validateStored(object: Obj): string | null {
  if (isTokenSecret(object) && !object.metadata.annotations?.['kubernetes.io/service-account.name'])
    return 'metadata.annotations[kubernetes.io/service-account.name]: Required value';
  try {
    validateKubeObject(object);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function parseSelector(selector: string | undefined): [string, string][] {
  if (!selector) return [];
  return selector.split(',').map((term) => {
    const [k, v] = term.split('=');
    return [k!, v ?? ''];
  });
}

function status(code: number, reason: string, message: string, kind?: string, name?: string) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(kind ? { details: { name, kind } } : {}),
    code,
  };
}

function invalid(kind: string, name: string, detail: string): [number, unknown] {
  return [422, status(422, 'Invalid', `${kind} "${name}" is invalid: ${detail}`, kind, name)];
}

function conflict(gr: string, name: string): [number, unknown] {
  return [
    409,
    status(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${gr} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      gr,
      name,
    ),
  ];
}

/** Leaf paths (lists whole, as JSON) → JSON value, without server-set metadata. */
function flatten(
  o: unknown,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (['metadata.resourceVersion', 'metadata.uid', 'metadata.creationTimestamp'].includes(path))
        continue;
      flatten(v, path, out);
    }
  } else out[prefix] = JSON.stringify(o);
  return out;
}

/** Removes the fields this manager set before and no longer applies (SSA field removal). */
function prune(object: Obj, previous: Record<string, string>, now: Record<string, string>): Obj {
  for (const field of Object.keys(previous)) {
    if (field in now) continue;
    const parts = field.split('.');
    let node = object as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = (node?.[p] as Record<string, unknown>) ?? {};
    delete node[parts.at(-1)!];
  }
  return object;
}

function deepMerge(base: Obj, patch: Obj): Obj {
  const merge = (a: unknown, b: unknown): unknown => {
    if (
      a &&
      b &&
      typeof a === 'object' &&
      typeof b === 'object' &&
      !Array.isArray(a) &&
      !Array.isArray(b)
    ) {
      const out: Record<string, unknown> = { ...(a as object) };
      for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
      return out;
    }
    return structuredClone(b);
  };
  return merge(base, patch) as Obj;
}
