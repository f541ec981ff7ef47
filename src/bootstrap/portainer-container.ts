// Portainer CE: a container `portainer` (KINDLER_PORTAINER_IMAGE, data in the volume
// kindler-portainer-data, API on KINDLER_PORTAINER_PORT, the Edge tunnel on 8000), its
// administrator initialised through Portainer's API with a generated password
// (POST /api/users/admin/init, public until an administrator exists — done at once), and an API
// key made for the bot (POST /api/users/{id}/tokens, which takes a JWT and the password).
// PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ADMIN_PASSWORD and PORTAINER_EDGE_URL (where the
// environments' Edge agents reach it) go to devops.env.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Failure } from '../domain/index.js';
import { run, runAllowingFailure } from '../system/exec.js';
import { cliOptions, containerRunning, ensureContainer } from './container.js';
import { parseAnswer } from '../system/parse.js';
import { waitUntil, type BootstrapContext, type Piece, type Probe } from './piece.js';

export const PORTAINER_CONTAINER = 'portainer';
const VOLUME = 'kindler-portainer-data';
const ADMIN = 'admin';
const Jwt = z.object({ jwt: z.string() });
const Token = z.object({ rawAPIKey: z.string() });
const Claims = z.object({ id: z.number() });

export class PortainerContainer implements Piece {
  readonly name = 'portainer' as const;
  readonly title = 'Portainer';

  private url(ctx: BootstrapContext) {
    return `http://127.0.0.1:${ctx.config.KINDLER_PORTAINER_PORT}`;
  }

  private api(ctx: BootstrapContext, path: string, init: RequestInit = {}) {
    return fetch(`${this.url(ctx)}/api${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** Whether `key` is an API key Portainer takes. */
  private async keyWorks(ctx: BootstrapContext, key: string | undefined): Promise<boolean> {
    if (!key) return false;
    const res = await this.api(ctx, '/endpoints?limit=1', { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    return res.ok;
  }

  async probe(ctx: BootstrapContext): Promise<Probe> {
    const state = await containerRunning(ctx, PORTAINER_CONTAINER);
    if (state === null) return { state: 'missing', detail: `no container ${PORTAINER_CONTAINER}` };
    if (!state) return { state: 'down', detail: `container ${PORTAINER_CONTAINER} is stopped` };
    const key = ctx.settings.PORTAINER_API_KEY ?? ctx.config.PORTAINER_API_KEY;
    const works = await this.keyWorks(ctx, key).catch(() => false);
    return works
      ? { state: 'ok', detail: `Portainer answers at ${this.url(ctx)} with the bot's API key` }
      : { state: 'down', detail: `Portainer at ${this.url(ctx)} does not take the bot's API key` };
  }

  async ensure(ctx: BootstrapContext, _found: Probe): Promise<string> {
    const port = ctx.config.KINDLER_PORTAINER_PORT;
    const did: string[] = [];
    const done = await ensureContainer(
      ctx,
      PORTAINER_CONTAINER,
      ctx.config.KINDLER_PORTAINER_IMAGE,
      ['-p', `${port}:9000`, '-p', '8000:8000', '-v', `${VOLUME}:/data`],
    );
    if (done !== 'running')
      did.push(`${done} ${PORTAINER_CONTAINER} (${ctx.config.KINDLER_PORTAINER_IMAGE})`);
    await waitUntil(
      `Portainer answering at ${this.url(ctx)}`,
      async () => ((await this.api(ctx, '/system/status').catch(() => null))?.ok ? true : null),
      { timeoutMs: 120_000, signal: ctx.signal },
    );
    const known = ctx.settings.PORTAINER_ADMIN_PASSWORD ?? ctx.config.PORTAINER_ADMIN_PASSWORD;
    const password = known ?? randomBytes(18).toString('base64url');
    // Kept before Portainer takes it: killed after the init, a rerun still knows the password.
    ctx.settings.PORTAINER_ADMIN_PASSWORD = password;
    await ctx.save();
    const init = await this.api(ctx, '/users/admin/init', {
      method: 'POST',
      body: JSON.stringify({ Username: ADMIN, Password: password }),
    });
    await init.arrayBuffer();
    if (init.status === 409 && !known)
      throw new Failure(
        'not_configured',
        `Portainer at ${this.url(ctx)} already has an administrator this bot does not know. To ` +
          `resolve, set PORTAINER_ADMIN_PASSWORD (and PORTAINER_ADMIN_USER) to theirs and run ` +
          `kindler bootstrap again`,
      );
    if (!init.ok && init.status !== 409)
      throw new Error(`Portainer refused to initialise its administrator (${init.status})`);
    if (init.ok) did.push('administrator initialised');
    ctx.settings.PORTAINER_URL = this.url(ctx);
    ctx.settings.PORTAINER_EDGE_URL = `http://${ctx.config.ARGOCD_CLUSTER_HOST}:${port}`;
    const key = ctx.settings.PORTAINER_API_KEY ?? ctx.config.PORTAINER_API_KEY;
    if (await this.keyWorks(ctx, key)) {
      ctx.settings.PORTAINER_API_KEY = key!;
      did.push('API key still good');
    } else {
      const auth = await this.api(ctx, '/auth', {
        method: 'POST',
        body: JSON.stringify({ Username: ctx.config.PORTAINER_ADMIN_USER, Password: password }),
      });
      if (!auth.ok)
        throw new Failure(
          'not_configured',
          `Portainer did not take the administrator's password (${auth.status}). To resolve, ` +
            `set PORTAINER_ADMIN_PASSWORD to Portainer's and run kindler bootstrap again`,
        );
      const { jwt } = parseAnswer(Jwt, await auth.json(), 'Portainer /api/auth');
      const claims = parseAnswer(
        Claims,
        JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')),
        "Portainer's token",
      );
      const made = await this.api(ctx, `/users/${claims.id}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ password, description: 'kindler-bot' }),
      });
      if (made.status !== 201)
        throw new Error(`Portainer refused to make an API key (${made.status})`);
      ctx.settings.PORTAINER_API_KEY = parseAnswer(
        Token,
        await made.json(),
        'Portainer /api/users/{id}/tokens',
      ).rawAPIKey;
      did.push('API key made for the bot');
    }
    return `${did.join('; ')}; ${this.url(ctx)}`;
  }

  async remove(ctx: BootstrapContext): Promise<string> {
    if ((await containerRunning(ctx, PORTAINER_CONTAINER)) === null)
      return `${PORTAINER_CONTAINER} already absent`;
    await run('docker', ['rm', '-f', PORTAINER_CONTAINER], cliOptions(ctx));
    // Its data volume was made by bootstrap too; a volume already gone is fine.
    const volume = await runAllowingFailure('docker', ['volume', 'rm', VOLUME], cliOptions(ctx));
    if (volume.exitCode !== 0 && !/no such volume/i.test(volume.stderr))
      throw new Error(
        `docker volume rm ${VOLUME} exited ${volume.exitCode}: ${volume.stderr.trim()}`,
      );
    return `removed ${PORTAINER_CONTAINER} and its volume ${VOLUME}`;
  }
}
