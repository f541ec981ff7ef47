import { describe, expect, it } from 'vitest';
import { CSV_HEADER, formatEnvironmentsCsv, parseEnvironmentsCsv } from '../../src/store/csv.js';

// docs/upstream-kindler.md §1: the upstream sample, [HEAD] rows included, with its trailing comment.
const UPSTREAM = `# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet
devops,k3d,30800,19000,false,false,23800,23843,
dev,k3d,30080,19001,true,true,18090,18443,10.101.0.0/16
uat,k3d,30080,19002,true,true,18091,18444,10.102.0.0/16
prod,k3d,30080,19003,true,true,18092,18445,10.103.0.0/16
dev-a,kind,30081,19011,true,true,18093,18446,        # [HEAD] only (also dev-b, dev-c)
`;

describe('environments.csv', () => {
  it('reads the upstream sample rows', () => {
    const { records, errors } = parseEnvironmentsCsv(UPSTREAM);
    expect(errors).toEqual([]);
    expect(records.map((r) => r.name)).toEqual(['devops', 'dev', 'uat', 'prod', 'dev-a']);
    expect(records[1]).toEqual({
      name: 'dev',
      provider: 'k3d',
      subnet: '10.101.0.0/16',
      nodePort: 30080,
      pfPort: 19001,
      httpPort: 18090,
      httpsPort: 18443,
      registerPortainer: true,
      haproxyRoute: true,
    });
    expect(records[0]).toMatchObject({
      subnet: null,
      registerPortainer: false,
      haproxyRoute: false,
    });
    expect(records[4]).toMatchObject({ provider: 'kind', subnet: null, nodePort: 30081 });
  });

  it('round-trips: format → parse → format is identical', () => {
    const once = formatEnvironmentsCsv(parseEnvironmentsCsv(UPSTREAM).records);
    expect(once.split('\n')[0]).toBe(CSV_HEADER);
    expect(formatEnvironmentsCsv(parseEnvironmentsCsv(once).records)).toBe(once);
    expect(once).toContain('devops,k3d,30800,19000,false,false,23800,23843,\n');
  });

  it('accepts the upstream boolean spellings', () => {
    const { records } = parseEnvironmentsCsv(
      'a,k3d,30080,19001,YES,on,18090,18443,\nb,kind,30081,19002,0,no,18091,18444,\n',
    );
    expect(records.map((r) => [r.registerPortainer, r.haproxyRoute])).toEqual([
      [true, true],
      [false, false],
    ]);
  });

  it.each([
    [
      'dev,k3d,30080,19001,true,true,18090',
      'line 1: expected 9 columns (env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet), found 7',
    ],
    [
      'Dev,k3d,30080,19001,true,true,18090,18443,',
      'line 1: "Dev" has upper-case letters; use lower case ("dev")',
    ],
    [
      'main,k3d,30080,19001,true,true,18090,18443,',
      'line 1: "main" is reserved (main, master, develop, release, devops) and is never an environment',
    ],
    [
      'dev,docker,30080,19001,true,true,18090,18443,',
      'line 1: provider "docker" is not k3d or kind',
    ],
    ['dev,k3d,30080,19001,true,true,80x,18443,', 'line 1: http_port "80x" is not a port (1-65535)'],
    [
      'dev,k3d,30080,19001,true,true,18090,18443,10.300.0.0/16',
      'line 1: cluster_subnet "10.300.0.0/16" is not an IPv4 CIDR like 10.101.0.0/16',
    ],
    [
      'dev,k3d,30080,19001,true,true,18090,18443,\ndev,k3d,30080,19002,true,true,18091,18444,',
      'line 2: "dev" appears twice',
    ],
  ])('refuses %j precisely', (text, message) => {
    expect(parseEnvironmentsCsv(text).errors).toEqual([message]);
  });
});
