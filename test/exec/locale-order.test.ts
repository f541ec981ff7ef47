// What the bot writes comes out in one order whatever the locale of the process that writes it: a
// server and a CLI run by users with different LANG settings render the gateway's routes, patch
// one route into a gateway the other rendered, and order a branch's files the same way. Each
// locale is a process of its own (ICU's default locale is read at start).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
let script: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-locale-'));
  script = path.join(dir, 'order.ts');
  const from = (file: string) => JSON.stringify(path.join(ROOT, file));
  fs.writeFileSync(
    script,
    [
      `import fs from 'node:fs';`,
      `import { patchGateway, parseRoutes, renderGateway } from ${from('src/registrars/haproxy-config.ts')};`,
      `import { renderBranchFiles } from ${from('src/git/manifests.ts')};`,
      `const base = fs.readFileSync(${from('test/fixtures/haproxy/haproxy.cfg')}, 'utf8');`,
      // Danish collation puts "aa" after "z"; English ignores case.
      `const row = (name: string, i: number) => ({ name, haproxyRoute: true, serverIp: null,`,
      `  nodePort: 30080, httpPort: 18090 + i });`,
      `const rows = ['zz', 'aab', 'ab-c', 'ba'].map(row);`,
      `const settings = { backendHost: '127.0.0.1' };`,
      `const whole = renderGateway(base, rows, settings);`,
      `const others = renderGateway(base, rows.filter((r) => r.name !== 'aab'), settings);`,
      `const patched = patchGateway(others, 'aab', rows[1]!, settings);`,
      `const files = renderBranchFiles(`,
      `  ['deploy/zz.yaml', 'deploy/values.yaml', 'deploy/Chart.yaml', 'deploy/aab.yaml']`,
      `    .map((p) => ({ path: p, content: 'x' })), {});`,
      `process.stdout.write(JSON.stringify({`,
      `  locale: new Intl.Collator().resolvedOptions().locale,`,
      `  routes: parseRoutes(whole).map((r) => r.name),`,
      `  whole, patched, files: files.map((f) => f.path) }));`,
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The script's answer in a process started under `locale`. */
function underLocale(locale: string) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LANG: locale, LC_ALL: locale },
    encoding: 'utf8',
  });
  return JSON.parse(out) as {
    locale: string;
    routes: string[];
    whole: string;
    patched: string;
    files: string[];
  };
}

describe('the order of what is written', () => {
  it('is the same under a Danish and an English locale: by code unit, never by collation', () => {
    const danish = underLocale('da_DK.UTF-8');
    const english = underLocale('en_US.UTF-8');
    // The two processes did collate differently: the test is not run twice under one locale.
    expect([danish.locale, english.locale]).toEqual(['da-DK', 'en-US']);
    for (const seen of [danish, english]) {
      expect(seen.routes).toEqual(['aab', 'ab-c', 'ba', 'zz']);
      expect(seen.patched).toBe(seen.whole);
      expect(seen.files).toEqual([
        'deploy/Chart.yaml',
        'deploy/aab.yaml',
        'deploy/values.yaml',
        'deploy/zz.yaml',
      ]);
    }
    expect(danish.whole).toBe(english.whole);
  });
});
