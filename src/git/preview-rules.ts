// What a pull request's deploy/ may hold, judged on each object as Kubernetes will read it (YAML
// aliases and merge keys already resolved): kinds from an allow-list, pods within Kubernetes' Pod
// Security Standards "baseline" profile, Services that publish nothing outside the cluster, and
// routes to this environment's host only, from every place a host can be given. What cannot be
// decided (a host a template computes) is refused. Argo CD's AppProject enforces the same bounds
// where the objects are applied; this check says why earlier, with the file and the line. Pure.
import { APP_NAMESPACE } from '../domain/index.js';

/** One problem at a path inside the object (for the line) with the rule that refused it. */
export interface RuleProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Namespaced workload, config, service and ingress kinds, as `group/Kind` (core: no group). RBAC,
 * cluster-scoped kinds, CRDs and admission webhooks are absent on purpose.
 */
export const DEFAULT_ALLOWED_KINDS: readonly string[] = [
  'Pod',
  'ConfigMap',
  'Secret',
  'Service',
  'ServiceAccount',
  'PersistentVolumeClaim',
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  'batch/Job',
  'batch/CronJob',
  'autoscaling/HorizontalPodAutoscaler',
  'policy/PodDisruptionBudget',
  'networking.k8s.io/Ingress',
  'networking.k8s.io/NetworkPolicy',
  'gateway.networking.k8s.io/HTTPRoute',
  'gateway.networking.k8s.io/GRPCRoute',
  'traefik.io/IngressRoute',
  'traefik.containo.us/IngressRoute',
];

/** Placeholder for what a template action computes (see validate-manifests' renderActions). */
export const COMPUTED = 'helm-value';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `group/Kind` of an object (`Kind` for the core group). */
export function groupKind(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  return group ? `${group}/${kind}` : kind;
}

/** Whether `group/Kind` is allowed by `allowed` (entries `group/Kind`, or `Kind` of any group). */
export function kindAllowed(gk: string, allowed: readonly string[]): boolean {
  const kind = gk.slice(gk.lastIndexOf('/') + 1);
  return allowed.some((a) => a === gk || (!a.includes('/') && a === kind && !gk.includes('/')));
}

/** Every rule but the kind's, on one resolved object. */
export function objectProblems(object: Obj, host: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const kind = String(object.kind);
  const metadata = obj(object.metadata) ?? {};
  const namespace = metadata.namespace;
  if (namespace !== undefined && namespace !== APP_NAMESPACE)
    problems.push({
      path: ['metadata', 'namespace'],
      message:
        `namespace "${String(namespace)}" is not the environment's; a ` +
        `preview deploys into "${APP_NAMESPACE}" (leave metadata.namespace out)`,
    });
  for (const pod of podSpecs(object))
    problems.push(...baseline(pod.spec, pod.path, obj(pod.metadata?.annotations)));
  if (kind === 'Service') problems.push(...serviceProblems(obj(object.spec) ?? {}));
  problems.push(...hostProblems(object, kind, host));
  return problems;
}

/** Where an object keeps its pods' spec (a Pod, a workload's template, a CronJob's job's). */
function podSpecs(object: Obj): { spec: Obj; path: string[]; metadata: Obj | null }[] {
  const spec = obj(object.spec);
  if (!spec) return [];
  if (object.kind === 'Pod') return [{ spec, path: ['spec'], metadata: obj(object.metadata) }];
  const template = obj(spec.template);
  const inner = obj(template?.spec);
  if (template && inner)
    return [{ spec: inner, path: ['spec', 'template', 'spec'], metadata: obj(template.metadata) }];
  const job = obj(obj(spec.jobTemplate)?.spec);
  const jobPod = obj(job?.template);
  const jobSpec = obj(jobPod?.spec);
  return jobPod && jobSpec
    ? [
        {
          spec: jobSpec,
          path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
          metadata: obj(jobPod.metadata),
        },
      ]
    : [];
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/**
 * Pod Security Standards, baseline profile
 * (kubernetes.io/docs/concepts/security/pod-security-standards).
 */
function baseline(spec: Obj, at: string[], annotations: Obj | null): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const say = (path: (string | number)[], what: string) =>
    problems.push({
      path: [...at, ...path],
      message: `${what} (Pod Security Standards: baseline)`,
    });
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (spec[key] === true) say([key], `${key} shares the node's namespaces`);
  list(spec.volumes).forEach((v, i) => {
    if (obj(v)?.hostPath !== undefined) say(['volumes', i, 'hostPath'], 'a hostPath volume');
  });
  securityContext(obj(spec.securityContext), ['securityContext'], say);
  for (const [field, value] of Object.entries(annotations ?? {}))
    if (
      field.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      value === 'unconfined'
    )
      say([], `AppArmor annotation ${field} is unconfined`);
  for (const group of ['initContainers', 'containers', 'ephemeralContainers'])
    list(spec[group]).forEach((c, i) => {
      const container = obj(c) ?? {};
      const sc = obj(container.securityContext);
      securityContext(sc, [group, i, 'securityContext'], say);
      if (sc?.privileged === true) say([group, i, 'securityContext', 'privileged'], 'privileged');
      const added = list(obj(sc?.capabilities)?.add).map(String);
      for (const cap of added)
        if (!BASELINE_CAPABILITIES.has(cap.replace(/^CAP_/, '')))
          say([group, i, 'securityContext', 'capabilities', 'add'], `capability ${cap} added`);
      if (sc?.procMount !== undefined && sc.procMount !== 'Default')
        say([group, i, 'securityContext', 'procMount'], `procMount ${String(sc.procMount)}`);
      list(container.ports).forEach((p, j) => {
        const hostPort = obj(p)?.hostPort;
        if (hostPort !== undefined && hostPort !== 0)
          say([group, i, 'ports', j, 'hostPort'], `hostPort ${String(hostPort)}`);
      });
    });
  return problems;
}

/** The parts of a pod's or container's securityContext the baseline bounds. */
function securityContext(
  sc: Obj | null,
  at: (string | number)[],
  say: (path: (string | number)[], what: string) => void,
): void {
  if (!sc) return;
  if (obj(sc.windowsOptions)?.hostProcess === true)
    say([...at, 'windowsOptions', 'hostProcess'], 'a Windows host process');
  const selinux = obj(sc.seLinuxOptions);
  if (selinux) {
    if (!SELINUX_TYPES.has(String(selinux.type ?? '')))
      say([...at, 'seLinuxOptions', 'type'], `SELinux type ${String(selinux.type)}`);
    for (const key of ['user', 'role'])
      if (selinux[key] !== undefined && selinux[key] !== '')
        say([...at, 'seLinuxOptions', key], `SELinux ${key} set`);
  }
  if (obj(sc.seccompProfile)?.type === 'Unconfined')
    say([...at, 'seccompProfile', 'type'], 'seccomp profile Unconfined');
  if (obj(sc.appArmorProfile)?.type === 'Unconfined')
    say([...at, 'appArmorProfile', 'type'], 'AppArmor profile Unconfined');
  list(sc.sysctls).forEach((s, i) => {
    const name = String(obj(s)?.name ?? '');
    if (!SAFE_SYSCTLS.has(name)) say([...at, 'sysctls', i, 'name'], `sysctl ${name}`);
  });
}

/** A Service reaches only inside the cluster: no ExternalName, LoadBalancer or external IPs. */
function serviceProblems(spec: Obj): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (spec.type === 'ExternalName' || spec.type === 'LoadBalancer')
    problems.push({
      path: ['spec', 'type'],
      message:
        `a Service of type ${spec.type} reaches outside the cluster; previews use ` +
        `ClusterIP Services and the environment's Ingress`,
    });
  if (list(spec.externalIPs).length)
    problems.push({
      path: ['spec', 'externalIPs'],
      message: 'a Service with externalIPs takes traffic for other addresses',
    });
  return problems;
}

/** The refusal of a host that is not the environment's. */
export const hostMessage = (value: string, host: string, where: string) =>
  `${where} is "${value}"; an environment serves only its own host "${host}"`;

/** Every host a route names, checked against `host`; a route that names none catches all. */
function hostProblems(object: Obj, kind: string, host: string): RuleProblem[] {
  const spec = obj(object.spec) ?? {};
  const problems: RuleProblem[] = [];
  const check = (path: (string | number)[], value: unknown, what: string) => {
    if (typeof value !== 'string' || value === '')
      problems.push({
        path,
        message: `the ${kind}'s ${what} has no host: it would serve every host; name "${host}"`,
      });
    else if (value.includes(COMPUTED))
      problems.push({
        path,
        message:
          `the ${kind}'s ${what} is computed by a template; only a host written out (or ` +
          `a .Values reference set in values.yaml) can be checked, and it must be "${host}"`,
      });
    else if (value !== host)
      problems.push({ path, message: hostMessage(value, host, `the ${kind}'s ${what}`) });
  };
  if (kind === 'Ingress') {
    if (spec.defaultBackend !== undefined)
      problems.push({
        path: ['spec', 'defaultBackend'],
        message:
          `the Ingress's spec.defaultBackend serves ` + `every host; route "${host}" in spec.rules`,
      });
    list(spec.rules).forEach((rule, i) =>
      check(['spec', 'rules', i, 'host'], obj(rule)?.host, 'spec.rules[].host'),
    );
    list(spec.tls).forEach((tls, i) =>
      list(obj(tls)?.hosts).forEach((h, j) =>
        check(['spec', 'tls', i, 'hosts', j], h, 'spec.tls[].hosts[]'),
      ),
    );
  }
  if (/Route$/.test(kind) && kind !== 'IngressRoute') {
    const names = list(spec.hostnames);
    if (names.length === 0) check(['spec'], undefined, 'spec.hostnames');
    names.forEach((h, i) => check(['spec', 'hostnames', i], h, 'spec.hostnames[]'));
  }
  if (kind === 'Gateway')
    list(spec.listeners).forEach((l, i) =>
      check(['spec', 'listeners', i, 'hostname'], obj(l)?.hostname, 'spec.listeners[].hostname'),
    );
  if (kind === 'IngressRoute')
    list(spec.routes).forEach((r, i) => {
      const match = String(obj(r)?.match ?? '');
      const path = ['spec', 'routes', i, 'match'];
      const where = 'spec.routes[].match';
      if (/HostRegexp|HostSNIRegexp/.test(match))
        problems.push({ path, message: `the IngressRoute's ${where} matches hosts by pattern` });
      const hosts = [...match.matchAll(/Host(?:SNI)?\s*\(([^)]*)\)/g)].flatMap((m) =>
        [...(m[1] ?? '').matchAll(/[`"']([^`"']*)[`"']/g)].map((q) => q[1]),
      );
      if (hosts.length === 0) check(path, undefined, where);
      for (const h of hosts) check(path, h, where);
    });
  return problems;
}
