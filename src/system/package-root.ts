// The directory holding this package's package.json, whether running from src/ (tsx) or dist/.
import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = import.meta.dirname;
  while (
    !fs.existsSync(path.join(dir, 'package.json')) ||
    !fs.existsSync(path.join(dir, 'templates'))
  ) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the kindler-bot package root above ${import.meta.dirname}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
