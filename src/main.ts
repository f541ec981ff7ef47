// The process entry (`npm start`): configuration, the store (migrated), the derived CSV snapshot,
// and the HTTP server. Without GitHub App credentials it still starts and says what to configure.
import fs from 'node:fs';
import { loadConfig } from './config/config.js';
import { openRuntime } from './runtime.js';
import { workerName } from './system/owner.js';
import { appConfigured, KindlerOctokit, WEBHOOK_PATH } from './github/start.js';
import { SETUP_PATH } from './github/registration.js';
import { registeredAppEnv } from './github/setup-files.js';
import { SETUP_CODE_FILE } from './github/setup-files.js';
import { serve } from './serve.js';
import { isWildcardHost } from './server/peer.js';
import { createProbot } from 'probot';
import { configRepoBranches, repositoryReader } from './github/config-repo.js';
import { GitHubHeadSource } from './git/github-head.js';
import { Redactor } from './domain/index.js';
import { createLogger } from './system/log.js';
import { describeCluster, embeddedCluster } from './store/embedded-postgres.js';
import { startWebhookProxy } from './github/webhook-proxy.js';
import { ensureGitServicePassword } from './git/git-service.js';

if (fs.existsSync('.env')) process.loadEnvFile('.env');
// The app registered through /kindler/setup (variables already set win).
const registered = registeredAppEnv(loadConfig().dataDir);
if (registered) process.loadEnvFile(registered);
// Branches kept under the data dir are served by the built-in Git service: its credential exists
// before the configuration is read, so every log line of this process redacts it.
if (!process.env.GIT_REPO_URL) ensureGitServicePassword(loadConfig().dataDir);
const config = loadConfig();
// One logger for the process: Probot's lines (per delivery) and the engine's (per operation).
const log = createLogger(config, new Redactor(config.secrets));
// As the app, with no GIT_REPO_URL, environment branches live in the config repo (GitHub API).
const probot = appConfigured(process.env)
  ? createProbot({
      env: process.env,
      overrides: { log: log.child({ component: 'github' }), Octokit: KindlerOctokit },
    })
  : undefined;
const branches = probot ? configRepoBranches(probot, config) : null;
// Pull-request heads are read with the installation that covers their repository.
const heads = probot ? repositoryReader(probot) : null;
const rt = await openRuntime(config, {
  log,
  ...(branches ? { branches } : {}),
  ...(heads ? { heads: (store) => new GitHubHeadSource(heads, store) } : {}),
});
const applied = await rt.store.migrate();
await rt.refreshSnapshot();
const served = await serve(
  rt,
  process.env,
  workerName('server'),
  { host: config.HOST, port: config.PORT },
  probot,
).catch((error: NodeJS.ErrnoException) => {
  // A port taken or not ours to bind is said in one line, with the setting that chooses it.
  if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') throw error;
  process.stderr.write(
    `kindler-bot: ${config.HOST}:${config.PORT} ` +
      (error.code === 'EADDRINUSE'
        ? 'is in use by another process'
        : 'may not be bound by this user') +
      '. ' +
      `To resolve, stop that process or set PORT (and HOST) to a free address.\n`,
  );
  process.exit(1);
});
const url = `http://${config.HOST}:${served.port}`;
const where = config.DATABASE_URL
  ? 'PostgreSQL (DATABASE_URL)'
  : config.KINDLER_DB === 'pglite'
    ? `PGlite in ${config.dataDir}/pglite`
    : `${describeCluster(embeddedCluster(config.dataDir))} (kindler db status|stop)`;
// Local development: deliveries come through a webhook proxy channel to this process's endpoint.
const local = isWildcardHost(config.HOST) ? '127.0.0.1' : config.HOST;
const proxy =
  appConfigured(process.env) && process.env.WEBHOOK_PROXY_URL
    ? startWebhookProxy(
        process.env.WEBHOOK_PROXY_URL,
        `http://${local.includes(':') ? `[${local}]` : local}:${served.port}${WEBHOOK_PATH}`,
        log.child({ component: 'webhook-proxy' }),
      )
    : null;
process.stdout.write(`Environment branches: ${rt.branches.description}\n`);
process.stdout.write(
  `kindler-bot listening on ${url} — state: ` +
    `${where}${applied.length ? `, migrations applied: ${applied.join(', ')}` : ''}\n`,
);
process.stdout.write(
  `Dashboard at ${url}/kindler${config.KINDLER_DASHBOARD_TOKEN ? ' (token required)' : ''}; ` +
    `metrics at /metrics\n`,
);
if (appConfigured(process.env)) {
  process.stdout.write(
    `GitHub webhooks at ${url}${WEBHOOK_PATH}${
      proxy ? ', and through the proxy ' + 'in WEBHOOK_PROXY_URL' : ''
    }\n`,
  );
} else {
  process.stdout.write(
    `GitHub App not configured: register one at ${url}${SETUP_PATH} (from this machine, or ` +
      `from elsewhere with ?setup_code=${served.setupCode ?? ''}, kept in ` +
      `${config.dataDir}/${SETUP_CODE_FILE}), or set APP_ID, PRIVATE_KEY ` +
      `(or PRIVATE_KEY_PATH) and WEBHOOK_SECRET, to receive /env commands. ` +
      (rt.store.backend === 'pglite'
        ? 'This process holds PGlite: beside it the kindler CLI answers list and status from the ' +
          'snapshot; to change environments from the CLI too, leave KINDLER_DB unset (the ' +
          'embedded PostgreSQL) or use DATABASE_URL for both.'
        : 'The kindler CLI works meanwhile, on the same database (./bin/kindler.js help).') +
      '\n',
  );
}
const stop = async () => {
  await proxy?.stop();
  await served.stop();
  await rt.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
