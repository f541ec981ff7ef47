// Loads the branch templates from disk (templates/deploy/** of this package, or a configured dir).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TemplateFile } from './manifests.js';
import { packageRoot } from '../system/package-root.js';

export const DEFAULT_TEMPLATES_DIR = path.join(packageRoot(), 'templates');

export async function loadTemplates(dir = DEFAULT_TEMPLATES_DIR): Promise<TemplateFile[]> {
  const root = path.join(dir, 'deploy');
  const entries = await fs
    .readdir(root, { recursive: true, withFileTypes: true })
    .catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `cannot read branch templates in ${root}: ${error.code ?? error.message}. ` +
          `To resolve, set KINDLER_TEMPLATES_DIR to a directory with a deploy/ folder`,
      );
    });
  const files = entries.filter((e) => e.isFile());
  return Promise.all(
    files.map(async (e) => {
      const full = path.join(e.parentPath, e.name);
      return {
        path: path.relative(dir, full).split(path.sep).join('/'),
        content: await fs.readFile(full, 'utf8'),
      };
    }),
  );
}
