// Opening the runtime fails whole: what it opened before the failure (the database pool) is
// closed, so a CLI that reports the failure exits at once instead of waiting on an idle pool.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('openRuntime', () => {
  let db: TestDatabase;
  let tmp: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-open-'));
  });

  afterAll(async () => {
    // Throws when a connection to the database is still open.
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('closes the store it opened when what follows fails', async () => {
    // The data dir is a file: its Git repository (made after the store is opened) cannot be.
    const dataDir = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(dataDir, '');
    const config = loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: dataDir }, tmp);
    await expect(openRuntime(config)).rejects.toThrow(/ENOTDIR|not a directory/);
  });
});
