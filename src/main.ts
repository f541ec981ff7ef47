// The process entry (`npm start`): configuration, the store (migrated), the derived CSV snapshot,
// and the HTTP server. Without GitHub App credentials it still starts and says what to configure.
import fs from 'node:fs';
import { loadConfig } from './config/config.js';
import { openRuntime } from './runtime.js';
import { healthHandler, startHttpServer } from './server/http-server.js';

if (fs.existsSync('.env')) process.loadEnvFile('.env');
const config = loadConfig();
const rt = await openRuntime(config);
const applied = await rt.store.migrate();
await rt.refreshSnapshot();
const server = await startHttpServer([healthHandler(rt)], config.HOST, config.PORT);
const where = rt.store.backend === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
process.stdout.write(`kindler-bot listening on http://${config.HOST}:${config.PORT} — state: ${where}${applied.length ? `, migrations applied: ${applied.join(', ')}` : ''}\n`);
if (!process.env.APP_ID || !(process.env.PRIVATE_KEY || process.env.PRIVATE_KEY_PATH) || !process.env.WEBHOOK_SECRET) {
  process.stdout.write('GitHub App not configured: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET to receive /env commands. The kindler CLI works meanwhile (npx kindler help).\n');
}
const stop = async () => {
  server.close();
  await rt.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
