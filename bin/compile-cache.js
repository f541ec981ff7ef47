// Node's on-disk cache of compiled code (V8 bytecode): a command does not compile the same few
// hundred modules on every run (about a sixth of a read's wall time here). Kept under the user's
// own cache directory, never a shared /tmp where another user could leave bytecode for us to run.
// KINDLER_COMPILE_CACHE=off turns it off.
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

export function enableCompileCache(env = process.env) {
  if (env.KINDLER_COMPILE_CACHE === 'off' || typeof module.enableCompileCache !== 'function')
    return;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  module.enableCompileCache(path.join(base, 'kindler-bot', 'compile'));
}
