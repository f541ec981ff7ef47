// What `kindler bootstrap` made, kept as KEY=value lines in <data dir>/devops.env: read under the
// variables the user sets (theirs win).
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export const DEVOPS_ENV_FILE = 'devops.env';

/** The settings bootstrap stored (KEY=value lines), or none. */
export function bootstrapSettings(dataDir: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, DEVOPS_ENV_FILE), 'utf8');
  } catch {
    return {};
  }
  return Object.fromEntries(
    Object.entries(parseEnv(text)).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
    ),
  );
}
