// KINDLER_SITES: the Docker hosts environments are placed on, from a YAML file read at start.
//
//   sites:
//     - name: eu-1                      # a DNS label, recorded on every environment placed there
//       docker_host: ssh://ops@eu-1     # its children's DOCKER_HOST (or docker_context: eu-1)
//       address: 10.1.0.5               # where the devops side reaches its published ports
//       labels: { region: eu }          # `--where region=eu` picks among sites by these
//       max_environments: 24            # refused past this count (and when its Docker is down)
//       node_cpus: 2                    # a node's size when a create names none
//       node_memory: 4g
//       max_cpus: 32                    # budgets: its environments' nodes summed
//       max_memory: 96g
//       http_ports: 20090-20999           # its own ranges (and https_ports, pf_ports,
//                                         # kind_node_ports, subnet_octets)
//       gateway:                          # its own HAProxy, a container on its Docker
//         container: haproxy-gw
//         config: /usr/local/etc/haproxy/haproxy.cfg
//         base_domain: eu-1.dev.example   # *.eu-1.dev.example resolves to the site
//         http_port: 80
//       portainer:                        # its own Portainer (API key: PORTAINER_API_KEY_EU_1)
//         url: https://portainer.eu-1.example:9443
//
// Unset: one site, `local`, this process's own Docker, as before sites existed. A bad file stops
// the start with the precise error, as a bad variable does.
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkEnvName } from '../domain/env-name.js';
import { parseLabels } from '../domain/labels.js';
import { SIZE_LIMITS, parseCpus, parseMemory } from '../domain/sizing.js';
import { localSite, type Site } from '../domain/sites.js';
import { ConfigError, range } from './config.js';

const cpus = z.union([z.number(), z.string()]).transform((raw, ctx) => {
  const parsed = parseCpus(raw);
  if ('message' in parsed) ctx.addIssue({ code: 'custom', message: `expected ${parsed.message}` });
  return 'cpus' in parsed ? parsed.cpus : 0;
});
const memory = (bounds: { min: number; max: number } = SIZE_LIMITS.memoryMib) =>
  z.string().transform((raw, ctx) => {
    const parsed = parseMemory(raw, bounds);
    if ('message' in parsed)
      ctx.addIssue({ code: 'custom', message: `expected ${parsed.message}` });
    return 'mib' in parsed ? parsed.mib : 0;
  });

/** A range as KINDLER_HTTP_PORTS takes it (`18090-18999`); a lone number is refused as such. */
const ports = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), range);

const portalUrl = z.string().regex(/^https?:\/\/[\w.-]+(:\d+)?(\/\S*)?$/, {
  message: 'expected an http:// or https:// URL',
});

const entry = z
  .object({
    name: z.string().refine((n) => checkEnvName(n).ok, { message: 'expected a DNS label' }),
    docker_host: z
      .string()
      .regex(/^(ssh|tcp|unix|npipe):\/\/\S+$/, { message: 'expected ssh://, tcp:// or unix://' })
      .optional(),
    docker_context: z
      .string()
      .regex(/^[\w.-]+$/, { message: 'expected a context name' })
      .optional(),
    address: z
      .string()
      .regex(/^[\w.:-]+$/, { message: 'expected a host name or address' })
      .optional(),
    labels: z.record(z.string(), z.string()).default({}),
    max_environments: z.number().int().positive().optional(),
    node_cpus: cpus.optional(),
    node_memory: memory().optional(),
    max_cpus: z.number().positive().optional(),
    // Its own ranges, where they differ from KINDLER_HTTP_PORTS and the rest.
    http_ports: ports.optional(),
    https_ports: ports.optional(),
    pf_ports: ports.optional(),
    kind_node_ports: ports.optional(),
    subnet_octets: ports
      .refine((r) => r.to <= 254, 'subnet octets are 1-254 (10.<n>.0.0/16)')
      .optional(),
    max_memory: memory({ min: SIZE_LIMITS.memoryMib.min, max: Infinity }).optional(),
    gateway: z
      .object({
        container: z.string().regex(/^[\w][\w.-]*$/, { message: 'expected a container name' }),
        config: z
          .string()
          .regex(/^\/[\w./-]+$/, { message: 'expected an absolute path' })
          .default('/usr/local/etc/haproxy/haproxy.cfg'),
        // whoami.<name>.<base_domain> stays a host name (253) for any name (63).
        base_domain: z
          .string()
          .max(182, 'at most 182 characters (whoami.<name>.<base_domain> is at most 253)')
          .regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, {
            message: 'expected a domain name',
          }),
        http_port: z.number().int().min(1).max(65535).default(80),
      })
      .strict()
      .optional(),
    // Its API key: PORTAINER_API_KEY_<NAME> (docs/sites.md), never this file.
    portainer: z.object({ url: portalUrl, edge_url: portalUrl.optional() }).strict().optional(),
  })
  .strict()
  .refine((s) => !(s.docker_host && s.docker_context), {
    message: 'give docker_host or docker_context, not both',
  })
  // A budget counts every node's size: each environment placed there must have one.
  .refine((s) => s.max_cpus === undefined || s.node_cpus !== undefined, {
    message: 'max_cpus needs node_cpus (the size of a node a create names none for)',
  })
  .refine((s) => s.max_memory === undefined || s.node_memory !== undefined, {
    message: 'max_memory needs node_memory (the size of a node a create names none for)',
  });

const schema = z.object({ sites: z.array(entry).min(1) }).strict();

/** The sites the file declares, checked; [local] without one. */
export function loadSites(file: string | undefined): Site[] {
  if (!file) return [localSite()];
  const fail = (why: string) =>
    new ConfigError(`KINDLER_SITES (${file}): ${why}. To resolve, fix the file (docs/sites.md).`);
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw fail((error as Error).message.split('\n')[0] ?? 'unreadable');
  }
  const parsed = parseSites(raw);
  if ('error' in parsed) throw fail(parsed.error);
  return parsed.sites;
}

/**
 * Sites as a document declares them (`{ sites: [...] }`: the KINDLER_SITES file, or the config
 * repository's .github/kindler.yml), checked; the first fault, where it is, when they are not.
 */
export function parseSites(raw: unknown): { sites: Site[] } | { error: string } {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  const seen = new Set<string>();
  const sites: Site[] = [];
  for (const [i, s] of parsed.data.sites.entries()) {
    if (seen.has(s.name)) return { error: `sites.${i}.name: "${s.name}" is declared twice` };
    seen.add(s.name);
    const labels = parseLabels(Object.entries(s.labels).map(([k, v]) => `${k}=${v}`));
    if ('message' in labels) return { error: `sites.${i}.labels: ${labels.message}` };
    sites.push(siteOf(s, labels.labels as Record<string, string>));
  }
  return { sites };
}

function siteOf(s: z.output<typeof entry>, labels: Record<string, string>): Site {
  return {
    name: s.name,
    dockerHost: s.docker_host ?? null,
    dockerContext: s.docker_context ?? null,
    address: s.address ?? null,
    labels,
    maxEnvironments: s.max_environments ?? null,
    maxCpus: s.max_cpus ?? null,
    maxMemoryMib: s.max_memory ?? null,
    nodeSize: { nodeCpus: s.node_cpus ?? null, nodeMemoryMib: s.node_memory ?? null },
    ranges: {
      ...(s.http_ports ? { http: s.http_ports } : {}),
      ...(s.https_ports ? { https: s.https_ports } : {}),
      ...(s.pf_ports ? { pf: s.pf_ports } : {}),
      ...(s.kind_node_ports ? { kindNodePorts: s.kind_node_ports } : {}),
      ...(s.subnet_octets ? { subnetOctets: s.subnet_octets } : {}),
    },
    gateway: s.gateway
      ? {
          container: s.gateway.container,
          configPath: s.gateway.config,
          baseDomain: s.gateway.base_domain,
          httpPort: s.gateway.http_port,
        }
      : null,
    portainer: s.portainer
      ? { url: s.portainer.url, edgeUrl: s.portainer.edge_url ?? s.portainer.url }
      : null,
  };
}
