// The real server as `npm start` starts it, with the GitHub App configured (a generated key, a
// webhook secret) on a throwaway database, its Probot's requests checked against GitHub's
// description. For tests that talk to it over HTTP.
import { appPrivateKey } from './github-fixtures.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProbot } from 'probot';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { serve } from '../../src/serve.js';
import { createTestDatabase } from './db.js';
import { ContractProbotOctokit } from './github-contract.js';

export interface AppServer {
  rt: Runtime;
  base: string;
  secret: string;
  /** `sha256=<hex>` of a body, as GitHub signs it. */
  sign(body: string | Buffer): string;
  stop(): Promise<void>;
}

export async function startAppServer(name: string, secret: string): Promise<AppServer> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kindler-${name}-`));
  const rt = await openRuntime(loadConfig({ DATABASE_URL: db.url, KINDLER_DATA_DIR: tmp }, tmp));
  await rt.store.migrate();
  const privateKey = appPrivateKey();
  const env = {
    APP_ID: '1',
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: secret,
    LOG_LEVEL: 'silent' as const,
  };
  const probot = createProbot({ env, overrides: { Octokit: ContractProbotOctokit } });
  const served = await serve(rt, env, `test:${name}`, { host: '127.0.0.1', port: 0 }, probot);
  return {
    rt,
    base: `http://127.0.0.1:${served.port}`,
    secret,
    sign: (body) => `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`,
    async stop() {
      await served.stop();
      await rt.close();
      await db.drop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
