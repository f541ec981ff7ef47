// The gateway: a container `haproxy-gw` (KINDLER_HAPROXY_IMAGE) on the host network, its config
// under the data dir (<data dir>/haproxy/haproxy.cfg, mounted read-only) with upstream's
// DYNAMIC markers, which the haproxy step renders from the database. The bot validates a new
// config inside the container and reloads it there with SIGHUP (the image runs haproxy in
// master-worker mode), so no haproxy is needed beside the bot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { run } from '../system/exec.js';
import { cliOptions, containerRunning, ensureContainer } from './container.js';
import type { BootstrapContext, Piece, Probe } from './piece.js';

export const GATEWAY_CONTAINER = 'haproxy-gw';
/** Where the gateway listens when HAPROXY_HTTP_PORT is not set (an unprivileged port). */
export const GATEWAY_PORT = 18080;
const MOUNT = '/usr/local/etc/haproxy';

/** The answer for a host no environment has (upstream's words). */
const NOT_FOUND = '404 Not Found - Domain not configured in HAProxy';

/**
 * The first config: a frontend on `address:port` (HAPROXY_HOST: loopback unless you open it)
 * routing nothing until environments are made.
 */
export function initialGatewayConfig(address: string, port: number): string {
  return `# Made by \`kindler bootstrap\`. kindler-bot manages only the parts between the
# "# BEGIN DYNAMIC …" / "# END DYNAMIC …" markers; everything else is yours. Every change is
# validated inside the ${GATEWAY_CONTAINER} container before it replaces this file, then the
# container reloads it (SIGHUP).
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
    http-request return status 404 content-type text/plain string "${NOT_FOUND}"

# BEGIN DYNAMIC BACKENDS (managed by kindler-bot)
# END DYNAMIC BACKENDS
`;
}

export class HaproxyContainer implements Piece {
  readonly name = 'haproxy' as const;
  readonly title = 'HAProxy gateway';

  async probe(ctx: BootstrapContext): Promise<Probe> {
    const state = await containerRunning(ctx, GATEWAY_CONTAINER);
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
    // Written whole beside it, then linked into place only if absent: a kill leaves no half file.
    const temp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(temp, initialGatewayConfig(ctx.config.HAPROXY_HOST, port));
    const wrote = await fs.link(temp, file).then(
      () => true,
      () => false,
    );
    await fs.rm(temp, { force: true });
    const done = await ensureContainer(ctx, GATEWAY_CONTAINER, ctx.config.KINDLER_HAPROXY_IMAGE, [
      '--network',
      'host',
      '-v',
      `${dir}:${MOUNT}:ro`,
    ]);
    const did =
      `${GATEWAY_CONTAINER} ` +
      `${done === 'running' ? 'already runs' : `${done} (${ctx.config.KINDLER_HAPROXY_IMAGE})`}`;
    Object.assign(ctx.settings, {
      HAPROXY_CONFIG: file,
      HAPROXY_HTTP_PORT: String(port),
      HAPROXY_CHECK_COMMAND: `docker exec -i ${GATEWAY_CONTAINER} haproxy -c -f /dev/stdin`,
      HAPROXY_RELOAD_COMMAND: `docker kill -s HUP ${GATEWAY_CONTAINER}`,
    });
    return `${did}; config ${file}${wrote ? ' (new)' : ''}, port ${port}`;
  }

  async remove(ctx: BootstrapContext): Promise<string> {
    if ((await containerRunning(ctx, GATEWAY_CONTAINER)) === null)
      return `${GATEWAY_CONTAINER} already absent`;
    await run('docker', ['rm', '-f', GATEWAY_CONTAINER], cliOptions(ctx));
    return `removed ${GATEWAY_CONTAINER} (its config stays in the data dir)`;
  }
}
