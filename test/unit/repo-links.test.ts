// A clone is self-contained: every relative link in the README and docs/ names a file of the
// repository, every docs/… file the code cites exists, and nothing points at the notes the project
// was started from (they live in docs/ now).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && fs.existsSync(path.join(root, f)));
const text = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');
const CODE = /\.(ts|js|mjs|cjs)$/;

describe('the repository points only at itself', () => {
  it('every relative link in the README and docs/ names a file that exists', () => {
    const broken: string[] = [];
    for (const f of files.filter((f) => f.endsWith('.md') && !f.startsWith('node_modules/'))) {
      // Links only: code (fenced blocks and spans) may hold anything that looks like one.
      const prose = text(f)
        .replace(/```[\s\S]*?```/g, '')
        .replace(/`[^`\n]*`/g, '');
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        const file = target!.split('#')[0]!;
        if (!fs.existsSync(path.resolve(root, path.dirname(f), file)))
          broken.push(`${f} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs/… file the code cites exists, and nothing cites the notes outside it', () => {
    const cited: string[] = [];
    const outside: string[] = [];
    for (const f of files.filter((f) => CODE.test(f) || f.endsWith('.md'))) {
      const body = text(f);
      for (const [ref] of body.matchAll(/\bdocs\/[\w./-]+\.md\b/g))
        if (CODE.test(f) && !fs.existsSync(path.join(root, ref))) cited.push(`${f} → ${ref}`);
      if (/\.\.\/shared\b|\bresearch\/\w+\.md|\b(DESIGN|STYLE)\.md\b/.test(body)) outside.push(f);
    }
    expect(cited).toEqual([]);
    expect(outside.filter((f) => f !== 'test/unit/repo-links.test.ts')).toEqual([]);
  });
});
