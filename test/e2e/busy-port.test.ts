// A second `npm start` on a port already taken says so in one line, naming PORT, and exits 1 —
// no EADDRINUSE stack trace.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let db: TestDatabase;
let tmp: string;
let holder: net.Server;
let port: number;

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-busy-'));
  holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  port = (holder.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => holder?.close(r));
  await db?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm start on a busy port', () => {
  it('says which address is taken and which setting to change, in one line, and exits 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        KINDLER_DATA_DIR: path.join(tmp, 'data'),
        GIT_REPO_URL: path.join(tmp, 'none.git'),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `kindler-bot: 127.0.0.1:${port} is in use by another process. To resolve, stop that process or set PORT (and HOST) to a free address.`,
    );
  }, 60_000);
});
