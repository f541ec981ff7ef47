// The gateway bootstrap makes, with real Docker: an `haproxy-gw` container on the host network
// (an image built here from Debian's haproxy: no image can be pulled), its config under the data
// dir; the bot renders a route into it, validates it inside the container and reloads it there
// with SIGHUP, and a request for whoami.dev.<BASE_DOMAIN> through the gateway reaches dev's
// backend on loopback — routing tested for real, end to end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyContainer, GATEWAY_CONTAINER } from '../../src/bootstrap/haproxy-container.js';
import type { BootstrapContext } from '../../src/bootstrap/piece.js';
import { runBootstrap, writeSettings } from '../../src/bootstrap/run-bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { haproxyGateway } from '../../src/registrars/gateways.js';
import { makeEnv } from '../support/env.js';
import { buildHaproxyImage } from '../support/haproxy-image.js';

let tmp: string;
let backend: http.Server;
let backendPort: number;
let gatewayPort: number;
let image: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
/** GET through the gateway with a Host header; null while nothing answers. */
const viaGateway = (host: string) =>
  new Promise<{ status: number; body: string } | null>((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port: gatewayPort, path: '/', headers: { host }, timeout: 2_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
async function eventually<T>(probe: () => Promise<T | null>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: T | null = null;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== null && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not within 15 s; last answer: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  image = buildHaproxyImage();
  execFileSync('docker', ['rm', '-f', GATEWAY_CONTAINER], { stdio: 'ignore' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-gateway-'));
  backend = http.createServer((req, res) => res.end(`hello from dev (${req.headers.host})`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as net.AddressInfo).port;
  gatewayPort = await freePort();
}, 120_000);
afterAll(async () => {
  execFileSync('docker', ['rm', '-f', GATEWAY_CONTAINER], { stdio: 'ignore' });
  await new Promise((r) => backend?.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the HAProxy gateway container, with real Docker', () => {
  it('bootstrap starts it; a route rendered by the bot is validated and reloaded inside it, and routes real HTTP', async () => {
    const env = {
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      KINDLER_HAPROXY_IMAGE: image,
      HAPROXY_HTTP_PORT: String(gatewayPort),
      BASE_DOMAIN: 'gw.test',
    };
    const config = loadConfig(env, tmp);
    const ctx: BootstrapContext = {
      config,
      settings: {},
      save: () => writeSettings(config.dataDir, ctx.settings),
      note: () => undefined,
      env,
    };
    const { ok, results } = await runBootstrap([new HaproxyContainer()], ctx, () => undefined);
    expect(ok, JSON.stringify(results)).toBe(true);
    const running = execFileSync(
      'docker',
      ['inspect', '--format', '{{.State.Running}} {{.HostConfig.NetworkMode}}', GATEWAY_CONTAINER],
      { encoding: 'utf8' },
    ).trim();
    expect(running).toBe('true host');
    // Nothing routed yet: the default backend answers.
    const none = await eventually(
      () => viaGateway('whoami.dev.gw.test'),
      (r) => r.status === 404,
    );
    expect(none.body).toContain('Domain not configured');

    // The bot's own gateway code, with what bootstrap stored (devops.env, read by loadConfig).
    const stored = loadConfig(env, tmp);
    expect(stored.HAPROXY_CONFIG).toBe(path.join(tmp, 'data/haproxy/haproxy.cfg'));
    expect(stored.HAPROXY_CHECK_COMMAND).toBe(
      `docker exec -i ${GATEWAY_CONTAINER} haproxy -c -f /dev/stdin`,
    );
    const gateway = haproxyGateway(stored)!;
    const dev = makeEnv('dev', { httpPort: backendPort });
    expect(await gateway.sync([dev])).toBe('changed');
    const routed = await eventually(
      () => viaGateway('whoami.dev.gw.test'),
      (r) => r.status === 200,
    );
    expect(routed.body).toBe('hello from dev (whoami.dev.gw.test)');
    // Another environment's host is not dev's.
    expect((await viaGateway('whoami.other.gw.test'))?.status).toBe(404);

    // A config the container's haproxy refuses is refused, and the live one keeps routing.
    const refused = await gateway
      .sync([makeEnv('dev', { httpPort: backendPort, name: 'bad name' as never })])
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(refused?.message).toContain('haproxy rejected the new config');
    expect((await viaGateway('whoami.dev.gw.test'))?.status).toBe(200);

    // A second bootstrap finds it running and changes nothing.
    const again = await runBootstrap([new HaproxyContainer()], ctx, () => undefined);
    expect(again.results[0]).toMatchObject({ outcome: 'present' });
    expect(fs.readFileSync(stored.HAPROXY_CONFIG!, 'utf8')).toContain('backend be_dev');
  }, 120_000);
});
