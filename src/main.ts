// The process entry (`npm start`): configuration, the store (migrated), the derived CSV snapshot,
// and the HTTP server. Without GitHub App credentials it still starts and says what to configure.
import fs from 'node:fs';
import { loadConfig } from './config/config.js';
import { openRuntime } from './runtime.js';
import { workerName } from './cli/owner.js';
import { appConfigured, WEBHOOK_PATH } from './github/start.js';
import { serve } from './server/serve.js';

if (fs.existsSync('.env')) process.loadEnvFile('.env');
const config = loadConfig();
const rt = await openRuntime(config);
const applied = await rt.store.migrate();
await rt.refreshSnapshot();
const served = await serve(rt, process.env, workerName('server'));
const where = rt.store.backend === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
process.stdout.write(`kindler-bot listening on http://${config.HOST}:${config.PORT} — state: ${where}${applied.length ? `, migrations applied: ${applied.join(', ')}` : ''}\n`);
process.stdout.write(`Dashboard at http://${config.HOST}:${config.PORT}/kindler${config.KINDLER_DASHBOARD_TOKEN ? ' (token required)' : ''}; metrics at /metrics\n`);
if (appConfigured(process.env)) {
  process.stdout.write(`GitHub webhooks at http://${config.HOST}:${config.PORT}${WEBHOOK_PATH}\n`);
} else {
  process.stdout.write('GitHub App not configured: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET to receive /env commands. The kindler CLI works meanwhile (./bin/kindler.js help).\n');
}
const stop = async () => {
  await served.stop();
  await rt.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
