// The local Git service's password, kept in the data directory (made once by git/git-service.ts).
// Read with the configuration, so every secret the process holds is known to the redactor.
import fs from 'node:fs';
import path from 'node:path';

export const GIT_SERVICE_PASSWORD_FILE = 'git-service.password';

/** The service's password, when one has been made (read at start, so it is redacted everywhere). */
export function gitServicePassword(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, GIT_SERVICE_PASSWORD_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}
