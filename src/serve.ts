// Everything `npm start` serves, on one server: health, the GitHub webhooks (when configured), the
// dashboard with its API, and metrics — with the worker taking operations from the queue.
import type http from 'node:http';
import type { Probot } from 'probot';
import path from 'node:path';
import { registrationHandler } from './github/registration.js';
import { issueSetupCode } from './github/setup-files.js';
import { appConfigured, startGitHub } from './github/start.js';
import { WEBHOOK_EVENTS } from './github/app.js';
import { packageRoot } from './system/package-root.js';
import type { Runtime } from './runtime.js';
import { githubUserLookup } from './web/principals.js';
import { dashboardHandler } from './web/handler.js';
import { systemLinks } from './web/links.js';
import { healthHandler, startHttpServer } from './server/http-server.js';
import { Metrics } from './server/metrics.js';
import { bootstrapContext, devopsPieces } from './bootstrap/devops-side.js';
import { runBootstrap } from './bootstrap/run-bootstrap.js';
import { gitHttpHandler } from './server/git-http.js';
import { isWildcardHost } from './server/peer.js';
import { watchSites } from './server/site-watch.js';

/** The Git service alone on `address` (host:port); a failure to listen is said, not fatal. */
async function listenGitService(
  service: NonNullable<Runtime['gitService']>,
  address: string,
  rt: Pick<Runtime, 'log' | 'config'>,
): Promise<http.Server | null> {
  const at = address.lastIndexOf(':');
  try {
    return await startHttpServer(
      [gitHttpHandler(service)],
      address.slice(0, at),
      Number(address.slice(at + 1)),
      { reusePort: rt.config.KINDLER_REUSE_PORT === 'true' },
    );
  } catch (error) {
    rt.log.warn(
      { err: error },
      `the Git service could not listen on ${address} (KINDLER_GIT_SERVICE_LISTEN): Argo CD in ` +
        `the devops cluster may not reach the branches`,
    );
    return null;
  }
}

/** GitHub's REST API: github.com's, or GitHub Enterprise Server's (GHE_HOST). */
export const githubApiBase = (env: NodeJS.ProcessEnv): string =>
  env.GHE_HOST
    ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3`
    : 'https://api.github.com';

/** GitHub on the web: github.com, or GitHub Enterprise Server's host. */
export const githubWebBase = (env: NodeJS.ProcessEnv): string =>
  env.GHE_HOST ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}` : 'https://github.com';

export interface Served {
  server: http.Server;
  port: number;
  /** While no app is configured: the one-time code that opens /kindler/setup from elsewhere. */
  setupCode: string | null;
  stop(): Promise<void>;
}

export async function serve(
  rt: Runtime,
  env: NodeJS.ProcessEnv,
  owner: string,
  listen = { host: rt.config.HOST, port: rt.config.PORT },
  probot?: Probot,
): Promise<Served> {
  const metrics = new Metrics(rt, { webhookEvents: WEBHOOK_EVENTS });
  const github = await startGitHub(rt, env, owner, metrics, probot);
  const { config } = rt;
  const web = githubWebBase(env);
  const setupCode = appConfigured(env) ? null : issueSetupCode(config.dataDir);
  const dashboard = dashboardHandler(rt, {
    token: config.KINDLER_DASHBOARD_TOKEN,
    metrics,
    secure: config.KINDLER_PUBLIC_URL?.startsWith('https:') ?? false,
    githubWeb: web,
    // Branches kept in the config repository have a page on GitHub.
    branchUrl: (name) =>
      appConfigured(env) && !config.GIT_REPO_URL && config.KINDLER_CONFIG_REPO
        ? `${web}/${config.KINDLER_CONFIG_REPO}/tree/${encodeURIComponent(name)}`
        : null,
    systemLinks: systemLinks({
      portainerUrl: config.PORTAINER_URL,
      argocdUrl: config.ARGOCD_URL,
      argocdNamespace: config.ARGOCD_NAMESPACE,
    }),
    // "Sign in with GitHub" with the app's own OAuth client.
    ...(appConfigured(env) && config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET
      ? {
          oauth: {
            clientId: config.GITHUB_CLIENT_ID,
            clientSecret: config.GITHUB_CLIENT_SECRET,
            apiBase: githubApiBase(env),
            publicUrl: config.KINDLER_PUBLIC_URL,
          },
        }
      : {}),
    // With the app, a GitHub user token is a credential too, judged as that user's comment.
    ...(appConfigured(env)
      ? {
          access: {
            githubLogin: githubUserLookup(githubApiBase(env)),
            ...(github.decide ? { decide: github.decide } : {}),
          },
        }
      : {}),
    setup: appConfigured(env)
      ? undefined
      : registrationHandler({
          dataDir: rt.config.dataDir,
          manifestPath: path.join(packageRoot(), 'app.yml'),
          gheHost: env.GHE_HOST,
          gheProtocol: env.GHE_PROTOCOL,
          publicUrl: rt.config.KINDLER_PUBLIC_URL,
          webhookProxyUrl: env.WEBHOOK_PROXY_URL,
          setupCode: setupCode ?? undefined,
          // The page's button runs what `kindler bootstrap` runs.
          bootstrap: () =>
            runBootstrap(
              devopsPieces(rt),
              bootstrapContext(rt, env, () => undefined),
              () => undefined,
            ),
        }),
  });
  const server = await startHttpServer(
    [
      healthHandler(rt, { running: () => github.worker.isRunning() }),
      ...(github.handler ? [github.handler] : []),
      // The branches under the data dir, for Argo CD to clone (read-only, with its credential).
      ...(rt.gitService ? [gitHttpHandler(rt.gitService)] : []),
      dashboard,
    ],
    listen.host,
    listen.port,
    { reusePort: rt.config.KINDLER_REUSE_PORT === 'true' },
  );
  const stopWatching = await watchSites(rt);
  // The Git service where the devops cluster reaches it, when the bot is bound to loopback.
  const gitOnly =
    rt.gitService && config.KINDLER_GIT_SERVICE_LISTEN && !isWildcardHost(listen.host)
      ? await listenGitService(rt.gitService, config.KINDLER_GIT_SERVICE_LISTEN, rt)
      : null;
  return {
    server,
    port: (server.address() as { port: number }).port,
    setupCode,
    // Graceful: stop accepting, let the worker finish its steps (the queue drains), then close.
    async stop() {
      // Live pages hold their connections open: ended first, so the server can close.
      await dashboard.close();
      await new Promise((resolve) => server.close(resolve));
      if (gitOnly) await new Promise((resolve) => gitOnly.close(resolve));
      await github.stopLoops();
      await stopWatching();
      await github.worker.stop();
    },
  };
}
