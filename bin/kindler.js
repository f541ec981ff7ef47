#!/usr/bin/env node
// The installed `kindler` command: checks the Node version, then runs the compiled CLI
// (npm run build writes dist/).
import { requireNode } from './check-node.js';

requireNode();
await import('../dist/src/cli/main.js');
