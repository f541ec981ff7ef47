#!/usr/bin/env node
// The `kindler` command. Reads .env when present, wires signals to a graceful stop, then hands
// over to runCli.
import fs from 'node:fs';
import { runCli } from './run.js';

if (fs.existsSync('.env')) process.loadEnvFile('.env');
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(
      `\nkindler: ${signal} — stopping after the current step; resume with "kindler retry <name>"\n`,
    );
    controller.abort(new Error(signal));
  });
}
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = code;
