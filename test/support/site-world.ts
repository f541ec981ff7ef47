// A world of sites for end-to-end tests: Docker endpoints on this machine, each a unix socket the
// stand-in CLIs reach through DOCKER_HOST as the real ones do (a state of its own per endpoint; a
// site without a socket refuses, as a daemon that is down), a bare Git repository, a gateway
// config, a test database and a runtime opened on KINDLER_SITES.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Operation } from '../../src/domain/index.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { cliInProcess } from './cli.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { setupFakes, type Fakes } from './fakes.js';

/** What one Docker endpoint's stand-in holds. */
export interface EndpointState {
  k3d: Record<string, { servers?: number; agents?: number; memory?: Record<string, number> }>;
  kind: Record<string, { nodes?: string[] }>;
  /** `docker update`'s limits by container. */
  limits?: Record<string, { cpus?: number; memory?: number; memorySwap?: number }>;
}

export interface SiteWorld {
  fakes: Fakes;
  tmp: string;
  env: Record<string, string>;
  rt: Runtime;
  /** A site's DOCKER_HOST. */
  host(site: string): string;
  /** What the stand-ins hold on a site's Docker. */
  stateOn(site: string): EndpointState;
  cli(...argv: string[]): ReturnType<typeof cliInProcess>;
  /** A create that must succeed, as its operation. */
  create(...argv: string[]): Promise<Operation>;
  close(): Promise<void>;
}

/**
 * Sites `listening` answer; `sitesYaml` (given each site's DOCKER_HOST) is the KINDLER_SITES file;
 * `extra` adds to the environment the runtime and the CLI see.
 */
export async function siteWorld(
  listening: string[],
  sitesYaml: (host: (site: string) => string) => string[],
  extra: Record<string, string> = {},
): Promise<SiteWorld> {
  const fakes = setupFakes();
  const restore = fakes.apply();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-sites-'));
  const host = (site: string) => `unix://${path.join(tmp, `${site}.sock`)}`;
  const daemons: net.Server[] = [];
  for (const site of listening) {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((r) => server.listen(path.join(tmp, `${site}.sock`), r));
    daemons.push(server);
  }
  fs.writeFileSync(path.join(tmp, 'sites.yaml'), [...sitesYaml(host), ''].join('\n'));
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', `${tmp}/gitops.git`]);
  fs.copyFileSync(
    path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
    path.join(tmp, 'haproxy.cfg'),
  );
  const db: TestDatabase = await createTestDatabase();
  const env = {
    ...fakes.env,
    DATABASE_URL: db.url,
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    GIT_REPO_URL: path.join(tmp, 'gitops.git'),
    BASE_DOMAIN: 'sites.test',
    KINDLER_SITES: path.join(tmp, 'sites.yaml'),
    HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
    KINDLER_RETRY_DELAYS_MS: 'none',
    KINDLER_READY_TIMEOUT: '0',
    USER: 'alice',
    ...extra,
  };
  const rt = await openRuntime(loadConfig({ ...process.env, ...env }, tmp));
  const cli = (...argv: string[]) => cliInProcess(argv, env);
  return {
    fakes,
    tmp,
    env,
    rt,
    host,
    stateOn(site) {
      const file = path.join(
        fakes.stateDir,
        `state-${host(site).replace(/[^A-Za-z0-9]+/g, '_')}.json`,
      );
      if (!fs.existsSync(file)) return { k3d: {}, kind: {} };
      return JSON.parse(fs.readFileSync(file, 'utf8')) as EndpointState;
    },
    cli,
    async create(...argv) {
      const result = await cli('create', ...argv, '--json');
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      return JSON.parse(result.stdout) as Operation;
    },
    async close() {
      await rt.close();
      for (const d of daemons) d.close();
      restore();
      fakes.cleanup();
      await db.drop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
