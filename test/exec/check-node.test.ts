// Node older than 22.12 is named as the problem before anything else runs: by `kindler`,
// `npm start` and `npm test`, and by npm itself (engine-strict).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeProblem } from '../../bin/check-node.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('the Node version check', () => {
  it('accepts 22.12 and newer, refuses older with the version to install', () => {
    for (const ok of ['22.12.0', '22.23.3', '23.0.0', '24.1.0']) expect(nodeProblem(ok)).toBeNull();
    for (const old of ['20.20.2', '22.11.9', '18.0.0'])
      expect(nodeProblem(old)).toBe(
        `kindler-bot needs Node.js 22.12.0 or newer; this is Node.js ${old}. To resolve, install Node 22 (for example: npm i --prefix ~/.node22 node@22 && export PATH=~/.node22/node_modules/node/bin:$PATH).`,
      );
  });

  it('every entry runs it first, and npm refuses to install on an older Node', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=22.12');
    expect(pkg.scripts.start).toMatch(/^node (--[\w-]+=\d+ )*bin\/start\.js$/);
    expect(pkg.scripts.pretest).toBe('node bin/check-node.js');
    expect(fs.readFileSync(path.join(root, '.npmrc'), 'utf8')).toContain('engine-strict=true');
    for (const entry of ['bin/kindler.js', 'bin/start.js']) {
      const text = fs.readFileSync(path.join(root, entry), 'utf8');
      expect(text.indexOf('requireNode();')).toBeLessThan(text.indexOf('await import('));
    }
  });

  // This machine's system Node is 20 (the tests run on a Node 22 fetched from npm): run the real
  // entry on it when it is there.
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    try {
      return nodeProblem(execFileSync(p, ['-p', 'process.versions.node']).toString().trim());
    } catch {
      return false;
    }
  });
  it.runIf(oldNode)(
    'on an older Node, kindler says so and exits 78 before loading anything',
    () => {
      const run = spawnSync(oldNode!, [path.join(root, 'bin/kindler.js'), 'list'], {
        encoding: 'utf8',
      });
      expect(run.status).toBe(78);
      expect(run.stderr).toMatch(
        /^kindler-bot needs Node\.js 22\.12\.0 or newer; this is Node\.js 2/,
      );
      expect(run.stdout).toBe('');
    },
  );
});
