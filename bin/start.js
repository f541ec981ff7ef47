#!/usr/bin/env node
// `npm start`: checks the Node version, then runs the compiled server entry.
import { requireNode } from './check-node.js';

requireNode();
await import('../dist/src/main.js');
