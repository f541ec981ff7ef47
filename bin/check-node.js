#!/usr/bin/env node
// The first thing every entry runs, before importing anything that needs a newer Node: names the
// required version instead of failing later with "Map.groupBy is not a function" and the like.
// Plain JavaScript with no imports, so it runs on any Node.
import process from 'node:process';
import { pathToFileURL } from 'node:url';

export const REQUIRED = '22.12.0';

/** Null when `version` (e.g. "22.12.0") is new enough, else what to say. */
export function nodeProblem(version, required = REQUIRED) {
  const have = version.split('.').map(Number);
  const need = required.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return null;
    if ((have[i] ?? 0) < need[i])
      return `kindler-bot needs Node.js ${required} or newer; this is Node.js ${version}. To resolve, install Node 22 (for example: npm i --prefix ~/.node22 node@22 && export PATH=~/.node22/node_modules/node/bin:$PATH).`;
  }
  return null;
}

/** Exits 78 (EX_CONFIG) with the message when this Node is too old. */
export function requireNode() {
  const problem = nodeProblem(process.versions.node);
  if (!problem) return;
  process.stderr.write(`${problem}\n`);
  process.exit(78);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) requireNode();
