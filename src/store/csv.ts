// The upstream environments.csv format, both ways. Pure: text in, records out. The header is a
// comment line; booleans read as 1|y|yes|true|on; an empty subnet means none (kind, shared
// network).
import { checkEnvName, isProviderName, MANAGEMENT_CLUSTER } from '../domain/index.js';
import type { EnvironmentRecord } from './store.js';

export const CSV_HEADER =
  '# env,provider,node_port,pf_port,register_portainer,' +
  'haproxy_route,http_port,https_port,cluster_subnet';
const TRUE = ['1', 'y', 'yes', 'true', 'on'];
const SUBNET = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseEnvironmentsCsv(text: string): {
  records: EnvironmentRecord[];
  errors: string[];
} {
  const records: EnvironmentRecord[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    const fail = (why: string) => errors.push(`line ${lineNo}: ${why}`);
    if (cells.length < 8 || cells.length > 9)
      return void fail(`expected 9 columns (${CSV_HEADER.slice(2)}), found ${cells.length}`);
    const [
      name = '',
      provider = '',
      node,
      pf,
      portainer = '',
      route = '',
      http,
      https,
      subnet = '',
    ] = cells;
    if (name !== MANAGEMENT_CLUSTER) {
      const check = checkEnvName(name);
      if (!check.ok) return void fail(check.reason);
    }
    if (seen.has(name)) return void fail(`"${name}" appears twice`);
    if (!isProviderName(provider)) return void fail(`provider "${provider}" is not k3d or kind`);
    const ports = { node_port: node, pf_port: pf, http_port: http, https_port: https };
    const numbers: Record<string, number> = {};
    for (const [column, value] of Object.entries(ports)) {
      const n = Number(value);
      if (!/^\d+$/.test(value ?? '') || n < 1 || n > 65535)
        return void fail(`${column} "${value ?? ''}" is not a port (1-65535)`);
      numbers[column] = n;
    }
    if (subnet !== '' && !validSubnet(subnet))
      return void fail(`cluster_subnet "${subnet}" is not an IPv4 CIDR like 10.101.0.0/16`);
    seen.add(name);
    records.push({
      name,
      provider,
      subnet: subnet === '' ? null : subnet,
      nodePort: numbers.node_port as number,
      pfPort: numbers.pf_port as number,
      httpPort: numbers.http_port as number,
      httpsPort: numbers.https_port as number,
      registerPortainer: TRUE.includes(portainer.toLowerCase()),
      haproxyRoute: TRUE.includes(route.toLowerCase()),
    });
  });
  return { records, errors };
}

function validSubnet(text: string): boolean {
  const m = SUBNET.exec(text);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

export function formatEnvironmentsCsv(rows: EnvironmentRecord[]): string {
  const lines = rows.map((r) =>
    [
      r.name,
      r.provider,
      r.nodePort,
      r.pfPort,
      r.registerPortainer,
      r.haproxyRoute,
      r.httpPort,
      r.httpsPort,
      r.subnet ?? '',
    ].join(','),
  );
  return `${[CSV_HEADER, ...lines].join('\n')}\n`;
}
