// One environment's route put into (or taken out of) a rendered config is the config a render from
// every row gives: for any rows, layout and change. A config not as a render left it is not patched.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  patchGateway,
  renderGateway,
  type GatewayRow,
} from '../../src/registrars/haproxy-config.js';

const base = fs.readFileSync(
  path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
  'utf8',
);
const settings = { backendHost: '127.0.0.1', siteAddresses: { 'eu-1': '10.0.0.9' } };
// The [PG] layout: use_backend beside each ACL; and a second frontend routing the same names.
const layouts = {
  sections: base,
  'no USE_BACKEND': base.replace(
    / *# BEGIN DYNAMIC USE_BACKEND.*\n *# END DYNAMIC USE_BACKEND\n/,
    '',
  ),
  'two frontends': base.replace(
    /(# BEGIN DYNAMIC BACKENDS)/,
    'frontend second\n    bind *:8081\n    # BEGIN DYNAMIC ACL\n    # END DYNAMIC ACL\n' +
      '    # BEGIN DYNAMIC USE_BACKEND\n    # END DYNAMIC USE_BACKEND\n\n$1',
  ),
};

const row = fc.record({
  name: fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/),
  haproxyRoute: fc.boolean(),
  serverIp: fc.option(fc.constantFrom('10.101.0.2', '10.102.0.3'), { nil: null }),
  nodePort: fc.constantFrom(30080, 30081),
  httpPort: fc.integer({ min: 18000, max: 18999 }),
  site: fc.option(fc.constantFrom('local', 'eu-1'), { nil: undefined }),
}) as fc.Arbitrary<GatewayRow>;
const rows = fc.uniqueArray(row, { selector: (r) => r.name, maxLength: 12 });

describe('patchGateway', () => {
  for (const [layout, config] of Object.entries(layouts))
    it(`gives what a render from every row gives (${layout})`, () => {
      fc.assert(
        fc.property(rows, row, fc.boolean(), (others, changed, removed) => {
          const before = renderGateway(config, others, settings);
          const rest = others.filter((r) => r.name !== changed.name);
          const after = removed ? rest : [...rest, changed];
          expect(patchGateway(before, changed.name, removed ? null : changed, settings)).toBe(
            renderGateway(config, after, settings),
          );
        }),
        { numRuns: 300 },
      );
    });

  it('leaves devops and a row whose haproxy_route is false without a route', () => {
    const one = renderGateway(base, [{ ...row0, name: 'dev' }], settings);
    expect(patchGateway(one, 'devops', { ...row0, name: 'devops' }, settings)).toBe(one);
    expect(patchGateway(one, 'dev', { ...row0, name: 'dev', haproxyRoute: false }, settings)).toBe(
      base,
    );
  });

  it('does not patch what a render did not leave: a hand edit, its own name twice, no END marker', () => {
    const one = renderGateway(base, [{ ...row0, name: 'dev' }], settings);
    const edited = one.replace(
      '  server s1 127.0.0.1:18090\n',
      '  server s1 127.0.0.1:18090\n  option httpchk\n',
    );
    const twice = one.replace(
      '# END DYNAMIC BACKENDS',
      'backend be_qa\n  server s1 127.0.0.1:1\n\nbackend be_qa\n  server s1 127.0.0.1:2\n\n' +
        '# END DYNAMIC BACKENDS',
    );
    const upstream = base.replace('# END DYNAMIC BACKENDS\n', '');
    for (const config of [edited, twice, upstream, 'global\n'])
      expect(patchGateway(config, 'qa', { ...row0, name: 'qa' }, settings)).toBeNull();
  });
});

const row0: GatewayRow = {
  name: 'x',
  haproxyRoute: true,
  serverIp: null,
  nodePort: 30080,
  httpPort: 18090,
};
