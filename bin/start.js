#!/usr/bin/env node
// `npm start`: checks the Node version, compiles src/ when it is newer than dist/ (never when
// dist/ is current: a start is not a build), then runs the compiled server entry.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { requireNode } from './check-node.js';
import { enableCompileCache } from './compile-cache.js';

requireNode();
enableCompileCache();
const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'dist/src/main.js');

/** The newest modification time of a file under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile())
      latest = Math.max(latest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  return latest;
}

const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
const sources = [path.join(root, 'src')].filter((d) => fs.existsSync(d));
if (sources.length && sources.some((d) => newest(d) > built)) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  fs.utimesSync(entry, new Date(), new Date()); // tsc leaves an unchanged file's time as it was
}
await import('../dist/src/main.js');
