// The derived CSV snapshot, rewritten after every change; read back when the database is down.
import fs from 'node:fs/promises';
import path from 'node:path';
import { formatEnvironmentsCsv, parseEnvironmentsCsv } from './csv.js';
import type { EnvironmentRecord, Store } from './store.js';

export async function writeSnapshot(store: Store, file: string): Promise<void> {
  const text = formatEnvironmentsCsv(await store.listAllRows());
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(temp, text, 'utf8');
  await fs.rename(temp, file);
}

export async function readSnapshot(
  file: string,
): Promise<{ records: EnvironmentRecord[]; writtenAt: Date | null }> {
  const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
  return { records: parseEnvironmentsCsv(text).records, writtenAt: stat.mtime };
}
