// What the setup keeps in the data directory: the one-time setup code, the registered app's
// settings and key.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const APP_ENV_FILE = 'github-app.env';

export const APP_KEY_FILE = 'github-app.pem';

export const SETUP_CODE_FILE = 'setup-code';

/**
 * A fresh setup code, written to `<data dir>/setup-code` readable by this user only (the banner
 * prints it): whoever can read the data directory or the server's output is the operator.
 */
export function issueSetupCode(dataDir: string): string {
  const code = randomBytes(12).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SETUP_CODE_FILE);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `${code}\n`, { mode: 0o600 });
  return code;
}

/** The app's credentials from an earlier registration, to load before the configuration is read. */
export function registeredAppEnv(dataDir: string): string | null {
  const file = path.join(dataDir, APP_ENV_FILE);
  return fs.existsSync(file) ? file : null;
}
