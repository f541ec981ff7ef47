// Every name another system builds from an environment's name, with that system's rule. The
// longest name accepted is the tightest of them, so a long name is refused up front, saying which
// system limits it, instead of failing deep inside Argo CD, Helm or k3d.
import type { EnvName } from './env-name.js';
import { dockerNetwork, kubeContext } from './names.js';
import type { ProviderName } from './provider.js';

export type NameRule = 'dns1123-label' | 'dns1035-label' | 'dns1123-subdomain' | 'length';

export interface DerivedName {
  /** The system and the object, as a refusal names it. */
  what: string;
  build(name: string): string;
  max: number;
  rule: NameRule;
  /** Only for this provider; both when absent. */
  provider?: ProviderName;
}

/** The Argo CD Application for an environment; Helm takes it as the release name. */
export const argoApplicationName = (name: EnvName | string): string => `whoami-${name}`;

export const DERIVED_NAMES: readonly DerivedName[] = [
  {
    what: 'the Helm release Argo CD installs (Application name, at most 53 characters)',
    build: argoApplicationName,
    max: 53,
    rule: 'dns1123-label',
  },
  {
    what: "the chart's Service <release>-whoami (a DNS-1035 label, at most 63 characters)",
    build: (n) => `${argoApplicationName(n)}-whoami`,
    max: 63,
    rule: 'dns1035-label',
  },
  {
    what: 'the label value app.kubernetes.io/instance (at most 63 characters)',
    build: argoApplicationName,
    max: 63,
    rule: 'dns1123-label',
  },
  {
    what: 'the host label in whoami.<name>.<BASE_DOMAIN> (at most 63 characters)',
    build: (n) => n,
    max: 63,
    rule: 'dns1123-label',
  },
  {
    what: 'the Argo CD cluster Secret cluster-<name>',
    build: (n) => `cluster-${n}`,
    max: 253,
    rule: 'dns1123-subdomain',
  },
  {
    what: 'the k3d cluster name (k3d allows at most 32 characters)',
    build: (n) => n,
    max: 32,
    rule: 'length',
    provider: 'k3d',
  },
  {
    what: "the k3d server's container host name k3d-<name>-server-0 (at most 63 characters)",
    build: (n) => `k3d-${n}-server-0`,
    max: 63,
    rule: 'dns1123-label',
    provider: 'k3d',
  },
  {
    what: 'the Docker network k3d-<name>',
    build: (n) => dockerNetwork(n as EnvName),
    max: 63,
    rule: 'dns1123-label',
    provider: 'k3d',
  },
  {
    what: "kind's node container host name <name>-control-plane (at most 63 characters)",
    build: (n) => `${n}-control-plane`,
    max: 63,
    rule: 'dns1123-label',
    provider: 'kind',
  },
  {
    what: 'the kube context kind-<name>',
    build: (n) => kubeContext(n as EnvName, 'kind'),
    max: 253,
    rule: 'length',
    provider: 'kind',
  },
];

const RULES: Record<NameRule, RegExp> = {
  'dns1123-label': /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  'dns1035-label': /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  'dns1123-subdomain': /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  length: /^/,
};

export function derivedNameValid(d: DerivedName, built: string): boolean {
  return built.length <= d.max && RULES[d.rule].test(built);
}

/** The longest name a provider accepts, and the system that sets it. */
export function longestName(provider: ProviderName): { max: number; what: string } {
  let best = { max: Infinity, what: '' };
  for (const d of DERIVED_NAMES) {
    if (d.provider && d.provider !== provider) continue;
    const room = d.max - (d.build('x').length - 1);
    if (room < best.max) best = { max: room, what: d.what };
  }
  return best;
}

/** Null when every derived name is valid for `provider`, else why not. */
export function checkDerivedNames(name: string, provider: ProviderName): string | null {
  const limit = longestName(provider);
  if (name.length > limit.max)
    return (
      `"${name.slice(0, 40)}${name.length > 40 ? '...' : ''}" is ${name.length} ` +
      `characters long; on ${provider} the limit is ${limit.max}, set by ${limit.what}`
    );
  for (const d of DERIVED_NAMES) {
    if (d.provider && d.provider !== provider) continue;
    if (!derivedNameValid(d, d.build(name))) return `"${name}" would make ${d.what} invalid`;
  }
  return null;
}
