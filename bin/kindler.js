#!/usr/bin/env -S node --max-semi-space-size=2
// The installed `kindler` command: checks the Node version, then runs the CLI bundled in one file
// (npm run build writes dist/cli/; scripts/bundle.mjs says why). A young generation of 2 MB keeps a read of 10,000 rows, whose
// garbage is all short-lived, under 100 MB (V8 would grow it to 48 MB).
import { requireNode } from './check-node.js';
import { enableCompileCache } from './compile-cache.js';

requireNode();
enableCompileCache();
await import('../dist/cli/kindler.mjs');
