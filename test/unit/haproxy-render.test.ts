import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRoutes, renderGateway } from '../../src/registrars/haproxy-config.js';
import { makeEnv } from '../support/env.js';

const base = fs.readFileSync(
  path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
  'utf8',
);
const golden = (name: string) => path.resolve(import.meta.dirname, `../fixtures/golden/${name}`);
const settings = { backendHost: '127.0.0.1' };
const three = [
  makeEnv('uat', { httpPort: 18091, subnet: '10.102.0.0/16' }),
  makeEnv('dev', { serverIp: '10.101.0.2' }),
  makeEnv('dev-a', { provider: 'kind', subnet: null, nodePort: 30081, httpPort: 18093 }),
  makeEnv('devops', { httpPort: 23800 }),
  makeEnv('quiet', { haproxyRoute: false, httpPort: 18094 }),
];

function matchesGolden(name: string, text: string) {
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(golden(name), text);
  expect(text).toBe(fs.readFileSync(golden(name), 'utf8'));
}

describe('renderGateway', () => {
  it('renders nothing for no environments, keeping the rest byte for byte', () => {
    expect(renderGateway(base, [], settings)).toBe(base);
  });

  it('renders one environment (golden)', () => {
    matchesGolden('haproxy-1.cfg', renderGateway(base, [makeEnv('dev')], settings));
  });

  it('renders three sorted, never devops, not the ones with haproxy_route false (golden)', () => {
    const text = renderGateway(base, three, settings);
    matchesGolden('haproxy-3.cfg', text);
    expect(text).not.toMatch(/host_devops|be_devops/);
    expect(text).not.toContain('quiet');
    expect(parseRoutes(text)).toEqual([
      { name: 'dev', backend: 'be_dev', server: '10.101.0.2:30080' },
      { name: 'dev-a', backend: 'be_dev-a', server: '127.0.0.1:18093' },
      { name: 'uat', backend: 'be_uat', server: '127.0.0.1:18091' },
    ]);
  });

  it('prunes: rendering fewer rows removes the others', () => {
    const pruned = renderGateway(renderGateway(base, three, settings), [makeEnv('dev')], settings);
    expect(pruned).toBe(renderGateway(base, [makeEnv('dev')], settings));
  });

  it('puts use_backend beside the ACLs when there is no USE_BACKEND section ([PG] layout)', () => {
    const pg = base.replace(/ *# BEGIN DYNAMIC USE_BACKEND.*\n *# END DYNAMIC USE_BACKEND\n/, '');
    expect(renderGateway(pg, [makeEnv('dev')], settings)).toContain(
      '    acl host_dev hdr_reg(host) -i ^[^.]+\\.dev\\.[^:]+\n    use_backend be_dev if host_dev\n    # END DYNAMIC ACL',
    );
  });

  it('adopts an upstream file whose backends have no END marker', () => {
    const upstream = base.replace(
      '# END DYNAMIC BACKENDS\n',
      'backend be_old\n  server s1 10.9.0.2:30080\n',
    );
    const text = renderGateway(upstream, [makeEnv('dev')], settings);
    expect(text).not.toContain('be_old');
    expect(
      text.endsWith('backend be_dev\n  server s1 127.0.0.1:18090\n\n# END DYNAMIC BACKENDS\n'),
    ).toBe(true);
  });

  it('refuses a config without the markers, saying which and how', () => {
    expect(() => renderGateway('global\n', [], settings)).toThrow(
      'the HAProxy config has no "# BEGIN DYNAMIC ACL" marker. To resolve, add that comment line inside each frontend that routes environments (see config/haproxy.cfg.example)',
    );
  });

  it('lists the same routes from a file saved with CRLF line ends, or with comments and blank lines in a backend', () => {
    const text = renderGateway(base, three, settings);
    const routes = parseRoutes(text);
    expect(parseRoutes(text.replaceAll('\n', '\r\n'))).toEqual(routes);
    const edited = text.replace('backend be_uat\n', 'backend be_uat\n  # moved here\n\n');
    expect(edited).not.toBe(text);
    expect(parseRoutes(edited)).toEqual(routes);
  });

  it('ignores static ACLs outside the markers when listing routes', () => {
    expect(parseRoutes(base)).toEqual([]);
  });
});
