#!/usr/bin/env node
// The installed `kindler` command: runs the compiled CLI (npm run build writes dist/).
import '../dist/src/cli/main.js';
