#!/usr/bin/env node
// The `kindler` command. Reads .env when present, wires signals to a graceful stop, then hands
// over to runCli.
import fs from 'node:fs';
import { runCli } from './run.js';

if (fs.existsSync('.env')) process.loadEnvFile('.env');
// A reader that goes away (`kindler create z1 2>&1 | head -3`) must not take a running operation
// with it: what would have been written to the closed pipe is dropped, and the operation runs to
// its end (its record, status comment and dashboard still say how it went).
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(
      `\nkindler: ${signal} — stopping after the current step; resume with ` +
        `"kindler retry <name>"\n`,
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
