// The gateway: a container `haproxy-gw` (KINDLER_HAPROXY_IMAGE) on the host network, its config
// under the data dir (<data dir>/haproxy/haproxy.cfg, mounted read-only) with upstream's
// DYNAMIC markers, which the haproxy step renders from the database. The bot validates a new
// config inside the container and reloads it there with SIGHUP (the image runs haproxy in
// master-worker mode), so no haproxy is needed beside the bot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { run, runAllowingFailure } from '../system/exec.js';
import type { BootstrapContext, Piece, Probe } from './piece.js';

export const GATEWAY_CONTAINER = 'haproxy-gw';
/** Where the gateway listens when HAPROXY_HTTP_PORT is not set (an unprivileged port). */
export const GATEWAY_PORT = 18080;
const MOUNT = '/usr/local/etc/haproxy';

/**
 * The first config: a frontend on `address:port` (HAPROXY_HOST: loopback unless you open it)
 * routing nothing until environments are made.
 */
export function initialGatewayConfig(address: string, port: number): string {
  return `# Made by \`kindler bootstrap\`. kindler-bot manages only the parts between the "# BEGIN DYNAMIC …" /
# "# END DYNAMIC …" markers; everything else is yours. Every change is validated inside the
# ${GATEWAY_CONTAINER} container before it replaces this file, then the container reloads it (SIGHUP).
global
    log stdout format raw local0
    maxconn 2048

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client  30s
    timeout server  30s

frontend fe_http
    bind ${address}:${port}
    # BEGIN DYNAMIC ACL (managed by kindler-bot)
    # END DYNAMIC ACL
    # BEGIN DYNAMIC USE_BACKEND (managed by kindler-bot)
    # END DYNAMIC USE_BACKEND
    default_backend be_default_404

backend be_default_404
    http-request return status 404 content-type text/plain string "404 Not Found - Domain not configured in HAProxy"

# BEGIN DYNAMIC BACKENDS (managed by kindler-bot)
# END DYNAMIC BACKENDS
`;
}

const Running = z.boolean();

export class HaproxyContainer implements Piece {
  readonly name = 'haproxy' as const;
  readonly title = 'HAProxy gateway';

  private opts(ctx: BootstrapContext) {
    return {
      timeoutMs: ctx.config.KINDLER_CLI_TIMEOUT_MS,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    };
  }

  /** Whether the container runs; null when there is none. */
  private async running(ctx: BootstrapContext): Promise<boolean | null> {
    const result = await runAllowingFailure(
      'docker',
      ['inspect', '--format', '{{json .State.Running}}', GATEWAY_CONTAINER],
      this.opts(ctx),
    );
    if (result.exitCode !== 0) {
      if (/No such (object|container)/i.test(result.stderr)) return null;
      throw new Error(
        `docker inspect ${GATEWAY_CONTAINER} exited ${result.exitCode}: ${result.stderr.trim()}`,
      );
    }
    return Running.parse(JSON.parse(result.stdout.trim()));
  }

  async probe(ctx: BootstrapContext): Promise<Probe> {
    const state = await this.running(ctx);
    if (state === null) return { state: 'missing', detail: `no container ${GATEWAY_CONTAINER}` };
    return state
      ? { state: 'ok', detail: `container ${GATEWAY_CONTAINER} runs` }
      : { state: 'down', detail: `container ${GATEWAY_CONTAINER} is stopped` };
  }

  async ensure(ctx: BootstrapContext, _found: Probe): Promise<string> {
    const dir = path.join(ctx.config.dataDir, 'haproxy');
    const file = path.join(dir, 'haproxy.cfg');
    const port = Number(
      ctx.settings.HAPROXY_HTTP_PORT ??
        (ctx.env.HAPROXY_HTTP_PORT ? ctx.config.HAPROXY_HTTP_PORT : GATEWAY_PORT),
    );
    await fs.mkdir(dir, { recursive: true });
    // An existing config is the gateway's (the haproxy step keeps it): never overwritten here.
    const wrote = await fs
      .writeFile(file, initialGatewayConfig(ctx.config.HAPROXY_HOST, port), { flag: 'wx' })
      .then(
        () => true,
        () => false,
      );
    const state = await this.running(ctx);
    let did: string;
    if (state === null) {
      await run(
        'docker',
        [
          'run',
          '-d',
          '--name',
          GATEWAY_CONTAINER,
          '--restart',
          'unless-stopped',
          '--network',
          'host',
          '-v',
          `${dir}:${MOUNT}:ro`,
          ctx.config.KINDLER_HAPROXY_IMAGE,
        ],
        this.opts(ctx),
      );
      did = `started ${GATEWAY_CONTAINER} (${ctx.config.KINDLER_HAPROXY_IMAGE})`;
    } else if (!state) {
      await run('docker', ['start', GATEWAY_CONTAINER], this.opts(ctx));
      did = `restarted ${GATEWAY_CONTAINER}`;
    } else did = `${GATEWAY_CONTAINER} already runs`;
    Object.assign(ctx.settings, {
      HAPROXY_CONFIG: file,
      HAPROXY_HTTP_PORT: String(port),
      HAPROXY_CHECK_COMMAND: `docker exec -i ${GATEWAY_CONTAINER} haproxy -c -f /dev/stdin`,
      HAPROXY_RELOAD_COMMAND: `docker kill -s HUP ${GATEWAY_CONTAINER}`,
    });
    return `${did}; config ${file}${wrote ? ' (new)' : ''}, port ${port}`;
  }

  async remove(ctx: BootstrapContext): Promise<string> {
    if ((await this.running(ctx)) === null) return `${GATEWAY_CONTAINER} already absent`;
    await run('docker', ['rm', '-f', GATEWAY_CONTAINER], this.opts(ctx));
    return `removed ${GATEWAY_CONTAINER} (its config stays in the data dir)`;
  }
}
