#!/usr/bin/env node
// The `kindler` command bundled (dist/cli/kindler.mjs and its chunks, from src/ by esbuild): a
// command starts without resolving and reading some 400 modules one by one, the better part of the
// time it took to reach its first child process (bench/results.md). Split where src/ imports
// lazily, so `kindler --help` still reads only what it needs. Node's built-in modules are taken with
// process.getBuiltinModule rather than imported: an ESM import of a built-in builds its facade by
// reading every export, and node:http's exports include getters that load undici (about 40 ms).
// What is loaded only where it is needed stays outside: the Kubernetes client (17 MB), PGlite (its
// WebAssembly sits beside its modules), pg-native (optional, absent).
//
//   node scripts/bundle.mjs [outdir]      (npm run build runs it after tsc)
import { build } from 'esbuild';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Every `import … from 'node:x'` becomes a CommonJS module holding process.getBuiltinModule(x). */
const builtins = {
  name: 'builtins',
  setup(b) {
    b.onResolve({ filter: /^[\w:/]+$/ }, (args) =>
      BUILTINS.has(args.path) ? { path: args.path, namespace: 'builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(
        args.path.startsWith('node:') ? args.path : `node:${args.path}`,
      )});`,
      loader: 'js',
    }));
  },
};

/** Writes the bundle of src/cli/main.ts to `outdir` (its entry: kindler.mjs), anew. */
export async function bundleCli(outdir = path.join(ROOT, 'dist/cli')) {
  fs.rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { kindler: path.join(ROOT, 'src/cli/main.ts') },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Not minified: an internal error's stack still names its functions.
    external: ['pg-native', '@electric-sql/*', '@kubernetes/client-node'],
    // CommonJS dependencies bundled into an ES module still call require() for built-ins.
    banner: {
      js:
        "import { createRequire as kindlerRequire } from 'node:module';\n" +
        'const require = kindlerRequire(import.meta.url);',
    },
    plugins: [builtins],
    absWorkingDir: ROOT,
    logLevel: 'warning',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundleCli(process.argv[2]);
