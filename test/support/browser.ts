// Headless Chromium for the console's tests (Debian's, never a downloaded one), where their
// screenshots go, and a dashboard handler served on loopback.
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startHttpServer } from '../../src/server/http-server.js';
import type { dashboardHandler } from '../../src/web/handler.js';

/** Screenshots, kept as the test run's artifacts. */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-results');

export async function launchChromium(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The dashboard on a free loopback port; `close` ends its live streams, then the server. */
export async function serveDashboard(dashboard: ReturnType<typeof dashboardHandler>) {
  const server = await startHttpServer([dashboard], '127.0.0.1', 0);
  return {
    base: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      await dashboard.close();
      await new Promise((r) => server.close(r));
    },
  };
}
