// The gateway's dynamic sections between the upstream marker comments, everything outside them kept
// byte for byte: rendered from every row (so it prunes itself), or patched with one environment's
// route (an operation's own change, read from its row alone). Never a route for `devops`: a
// wildcard devops ACL once sent Portainer's traffic to Argo CD upstream.
import {
  byText,
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
const BACKEND_LINE = /^backend (be_[a-z0-9-]+)\s*$/;
const SERVER_LINE = /^server \S+ (\S+)/;
const ACL_LINE = /^acl host_([a-z0-9-]+) /;
const SPACE = new Set([' ', '\t', '\r', '\f', '\v']);

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
    .sort((a, b) => byText(a.name, b.name));
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

/**
 * One environment's route put in (or, `row` null, taken out of) a config already rendered: its
 * lines replaced where they are, or placed in name order, every other line kept — the config a
 * render from every row gives when the other routes are as their rows say. So an operation reads
 * its own row, not the table. Null when a section is not as a render leaves it (a hand edit, an
 * upstream config without `# END DYNAMIC BACKENDS`): the caller renders it whole.
 */
export function patchGateway(
  config: string,
  name: string,
  row: GatewayRow | null,
  settings: GatewaySettings,
): string | null {
  const routed = row ? (routedEnvironments([{ ...row, name }])[0] ?? null) : null;
  // The marker lines, found without splitting the file (10,000 routes are 50,000 lines).
  const marks: { begin: number; end: number; section: Section; close: boolean }[] = [];
  for (let at = config.indexOf('# '); at !== -1; at = config.indexOf('# ', at + 1)) {
    if (!config.startsWith('# BEGIN DYNAMIC', at) && !config.startsWith('# END DYNAMIC', at))
      continue;
    const begin = config.lastIndexOf('\n', at) + 1;
    const newline = config.indexOf('\n', at);
    const end = newline === -1 ? config.length : newline + 1;
    const line = config.slice(begin, newline === -1 ? undefined : newline);
    const section = SECTIONS.find((s) => BEGIN(s).test(line) || END(s).test(line));
    if (section) marks.push({ begin, end, section, close: END(section).test(line) });
  }
  const opened = marks.filter((m) => !m.close);
  const has = (s: Section) => opened.some((m) => m.section === s);
  if (!has('ACL') || !has('BACKENDS')) return null;
  const hasUseBackend = has('USE_BACKEND');
  const parts: string[] = [];
  let from = 0;
  for (const [i, open] of marks.entries()) {
    if (open.close) continue;
    const close = marks[i + 1];
    if (!close?.close || close.section !== open.section) return null;
    const indent = BEGIN(open.section).exec(config.slice(open.begin, open.end))?.[1] ?? '';
    const render = (e: GatewayRow) =>
      renderSection(open.section, [e], indent, hasUseBackend, settings).join('\n') + '\n';
    const body = patchBody(config.slice(open.end, close.begin), name, routed, render);
    if (body === null) return null;
    parts.push(config.slice(from, open.end), body);
    from = close.begin;
  }
  parts.push(config.slice(from));
  return parts.join('');
}

/**
 * A section's lines (`body`: each entry as `render` writes it, in name order) with `name`'s entry
 * replaced by `routed`'s, or taken out; null when the body is not as `render` writes entries.
 */
function patchBody(
  body: string,
  name: string,
  routed: GatewayRow | null,
  render: (e: GatewayRow) => string,
): string | null {
  // An entry as rendered, with any name and any server: the shape every entry must have.
  const shape = render({ name: '\u0000', serverIp: '\u0001', nodePort: 0 } as GatewayRow)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replaceAll('\u0000', '[a-z0-9-]+')
    .replaceAll('\u0001:0', '\\S+');
  if (!new RegExp(`^(?:${shape})*$`).test(body)) return null;
  // An entry starts with its first line's words up to the name, the same in all of them.
  const lead = `\n${render({ name: '\u0000' } as GatewayRow).split('\u0000')[0]}`;
  let text = `\n${body}`;
  const mine = [' ', '\n'].flatMap((after) => occurrences(text, `${lead}${name}${after}`));
  // The name twice: only a render from every row puts it right.
  if (mine.length > 1) return null;
  if (mine[0] !== undefined) {
    const next = text.indexOf(lead, mine[0] + 1);
    text = text.slice(0, mine[0]) + (next === -1 ? '\n' : text.slice(next));
  }
  if (!routed) return text.slice(1);
  // Where a render puts it: before the first entry whose name sorts after it, found by halving
  // the text (each probe reads the entry starting after a point) rather than listing every entry.
  const end = text.length - 1;
  const entryFrom = (at: number) => {
    const found = text.indexOf(lead, at);
    return found === -1 || found > end ? end : found;
  };
  const nameAt = (at: number) => {
    let stop = at + lead.length;
    while (stop < text.length && text.charCodeAt(stop) > 32) stop++;
    return text.slice(at + lead.length, stop);
  };
  let lo = entryFrom(0);
  let hi = end;
  while (lo < hi) {
    const mid = entryFrom((lo + hi) >> 1);
    const probe = mid < hi ? mid : lo;
    if (byText(nameAt(probe), name) < 0) lo = entryFrom(probe + 1);
    else hi = probe;
  }
  return `${text.slice(0, lo)}\n${render(routed).slice(0, -1)}${text.slice(lo)}`.slice(1);
}

/** Where `needle` occurs in `text`. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) found.push(at);
  return found;
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
  // One pass over the lines (25,000 at 5,000 routes), a regular expression only where a line's
  // start says it can match.
  const servers = new Map<string, string>();
  const names = new Set<string>();
  let current: string | null = null;
  let inAcl = false;
  for (const line of config.split('\n')) {
    const indented = line !== '' && SPACE.has(line[0] as string);
    if (!indented && line !== '')
      current = line.startsWith('backend ') ? (BACKEND_LINE.exec(line)?.[1] ?? null) : null;
    const text = indented ? line.trimStart() : line;
    if (text.startsWith('#')) {
      if (BEGIN('ACL').test(line)) inAcl = true;
      else if (END('ACL').test(line)) inAcl = false;
    } else if (indented && current && text.startsWith('server ') && !servers.has(current)) {
      const server = SERVER_LINE.exec(text);
      if (server) servers.set(current, server[1] as string);
    } else if (inAcl && text.startsWith('acl host_')) {
      const acl = ACL_LINE.exec(text);
      if (acl) names.add(acl[1] as string);
    }
  }
  const routes = [...names].map((name) => ({
    name,
    backend: `be_${name}`,
    server: servers.get(`be_${name}`) ?? null,
  }));
  return routes.sort((a, b) => byText(a.name, b.name));
}
