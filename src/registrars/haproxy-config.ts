// The gateway's dynamic sections, rendered from every row (so it prunes itself) between the
// upstream marker comments; everything outside the markers is kept byte for byte. Never a route
// for `devops`: a wildcard devops ACL once sent Portainer's traffic to Argo CD upstream.
import {
  Failure,
  MANAGEMENT_CLUSTER,
  haproxyAcl,
  haproxyBackend,
  type EnvName,
  type Environment,
} from '../domain/index.js';

export interface GatewaySettings {
  /** Where HAProxy reaches an environment without a recorded node IP: <host>:<http_port>. */
  backendHost: string;
  /** A site's address (KINDLER_SITES), used instead of backendHost for its environments. */
  siteAddresses?: Record<string, string>;
}

type Section = 'ACL' | 'USE_BACKEND' | 'BACKENDS';
const SECTIONS = ['ACL', 'USE_BACKEND', 'BACKENDS'] as const;
// Compiled once: a config of 10,000 routes is 50,000 lines, each tested against every marker.
const BEGINS = new Map(SECTIONS.map((s) => [s, new RegExp(`^(\\s*)# BEGIN DYNAMIC ${s}\\b`)]));
const ENDS = new Map(SECTIONS.map((s) => [s, new RegExp(`^\\s*# END DYNAMIC ${s}\\b`)]));
const BEGIN = (s: Section) => BEGINS.get(s) as RegExp;
const END = (s: Section) => ENDS.get(s) as RegExp;

/**
 * What a route is rendered from: an environment's row, or its record read alone (a name the
 * database holds: checked when it was written).
 */
export type GatewayRow = Pick<
  Environment,
  'haproxyRoute' | 'serverIp' | 'nodePort' | 'httpPort'
> & { name: string; site?: string };

export function routedEnvironments<T extends GatewayRow>(envs: T[]): T[] {
  return envs
    .filter((e) => e.name !== MANAGEMENT_CLUSTER && e.haproxyRoute)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The backend target. Upstream routes to the node's IP and the Traefik NodePort when it knows the
 * IP; otherwise to the host port mapping (<host>:<http_port>), its own fallback — on another site,
 * that site's address.
 */
/** The settings routes are rendered and checked with: one place for both. */
export const gatewaySettings = (
  backendHost: string,
  sites: readonly { name: string; address: string | null }[] = [],
): GatewaySettings => ({
  backendHost,
  siteAddresses: Object.fromEntries(sites.flatMap((s) => (s.address ? [[s.name, s.address]] : []))),
});

export function backendTarget(env: GatewayRow, settings: GatewaySettings): string {
  if (env.serverIp) return `${env.serverIp}:${env.nodePort}`;
  const host = (env.site && settings.siteAddresses?.[env.site]) || settings.backendHost;
  return `${host}:${env.httpPort}`;
}

export function renderGateway(
  config: string,
  envs: GatewayRow[],
  settings: GatewaySettings,
): string {
  const routed = routedEnvironments(envs);
  const lines = config.split('\n');
  const hasUseBackend = lines.some((l) => BEGIN('USE_BACKEND').test(l));
  if (!lines.some((l) => BEGIN('ACL').test(l)))
    throw missing('# BEGIN DYNAMIC ACL', 'inside each frontend that routes environments');
  if (!lines.some((l) => BEGIN('BACKENDS').test(l)))
    throw missing('# BEGIN DYNAMIC BACKENDS', 'after the static backends');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const section = line.includes('# BEGIN DYNAMIC')
      ? SECTIONS.find((s) => BEGIN(s).test(line))
      : undefined;
    if (!section) {
      out.push(line);
      continue;
    }
    const indent = BEGIN(section).exec(line)?.[1] ?? '';
    let end = lines.findIndex((l, j) => j > i && END(section).test(l));
    if (end < 0) {
      if (section !== 'BACKENDS')
        throw missing(`# END DYNAMIC ${section}`, `after its BEGIN line (line ${i + 1})`);
      // Upstream has no END marker for backends: the dynamic block runs to the end of the file,
      // which we accept only when it holds nothing but backend be_* blocks.
      const rest = lines.slice(i + 1);
      if (rest.some((l) => /^\S/.test(l) && !/^backend be_/.test(l) && !/^#/.test(l)))
        throw missing('# END DYNAMIC BACKENDS', 'after the dynamic backends');
      end = lines.length;
    }
    out.push(line, ...renderSection(section, routed, indent, hasUseBackend, settings));
    out.push(end < lines.length ? (lines[end] as string) : `${indent}# END DYNAMIC BACKENDS`);
    if (end === lines.length) out.push('');
    i = end;
  }
  return out.join('\n');
}

function renderSection(
  section: Section,
  envs: GatewayRow[],
  indent: string,
  hasUseBackend: boolean,
  settings: GatewaySettings,
): string[] {
  // Names the database holds (checked when they were written).
  const acl = (e: GatewayRow) => haproxyAcl(e.name as EnvName);
  const backend = (e: GatewayRow) => haproxyBackend(e.name as EnvName);
  if (section === 'ACL') {
    return envs.flatMap((e) => [
      `${indent}acl ${acl(e)} hdr_reg(host) -i ^[^.]+\\.${e.name}\\.[^:]+`,
      ...(hasUseBackend ? [] : [`${indent}use_backend ${backend(e)} if ${acl(e)}`]),
    ]);
  }
  if (section === 'USE_BACKEND')
    return envs.map((e) => `${indent}use_backend ${backend(e)} if ${acl(e)}`);
  return envs.flatMap((e) => [
    `backend ${backend(e)}`,
    `  server s1 ${backendTarget(e, settings)}`,
    '',
  ]);
}

function missing(marker: string, where: string): Failure {
  return new Failure(
    'not_configured',
    `the HAProxy config has no "${marker}" marker. To resolve, add ` +
      `that comment line ${where} (see config/haproxy.cfg.example)`,
  );
}

export interface Route {
  name: string;
  backend: string;
  server: string | null;
}

/** The dynamic routes a config holds (static ACLs outside the markers are not ours). */
export function parseRoutes(config: string): Route[] {
  const servers = new Map<string, string>();
  let current: string | null = null;
  for (const line of config.split('\n')) {
    const backend = /^backend (be_[a-z0-9-]+)\s*$/.exec(line);
    if (backend) current = backend[1] as string;
    else if (/^\S/.test(line)) current = null;
    const server = /^\s+server \S+ (\S+)/.exec(line);
    if (current && server && !servers.has(current)) servers.set(current, server[1] as string);
  }
  const routes = new Map<string, Route>();
  let inAcl = false;
  for (const line of config.split('\n')) {
    if (BEGIN('ACL').test(line)) inAcl = true;
    else if (END('ACL').test(line)) inAcl = false;
    const acl = inAcl ? /^\s*acl host_([a-z0-9-]+) /.exec(line) : null;
    if (acl) {
      const name = acl[1] as string;
      routes.set(name, { name, backend: `be_${name}`, server: servers.get(`be_${name}`) ?? null });
    }
  }
  return [...routes.values()].sort((a, b) => a.name.localeCompare(b.name));
}
