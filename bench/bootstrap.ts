// `kindler bootstrap` as a new user runs it, on the stand-ins (k3d and docker the executable
// fakes, the devops cluster's API the Kubernetes stand-in with Argo CD's CRDs and controllers,
// Portainer's API stand-in): each piece's time from an empty data dir, the whole first run, and a
// second run that finds everything in place. The stand-ins answer at once, so these are the
// bot's own costs (applying Argo CD's 59 objects, waiting on its CRDs and workloads, Portainer's
// calls), not a real cluster's start-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliChild } from '../test/support/cli.js';
import { createTestDatabase } from '../test/support/db.js';
import { setupFakes } from '../test/support/fakes.js';
import { startKubeApi } from '../test/support/kube-api.js';
import { startPortainerServer } from '../test/support/portainer-server.js';
import type { Figure } from './figure.js';
import { ROOT, buildDist } from './process.js';

export async function bootstrapFigures(): Promise<Figure[]> {
  // The command as installed (outside vitest, whose global setup bundles one of its own).
  buildDist();
  process.env.KINDLER_TEST_CLI ??= path.join(ROOT, 'dist/cli/kindler.mjs');
  const fakes = setupFakes();
  const kube = await startKubeApi({ fakeClusters: true, strictCrds: true, controllerDelayMs: 50 });
  const portainer = await startPortainerServer();
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-bootstrap-'));
  const env = {
    ...fakes.env,
    KINDLER_FAKE_KUBE_API: kube.url,
    DATABASE_URL: db.url,
    KINDLER_DATA_DIR: path.join(tmp, 'data'),
    KINDLER_PORTAINER_PORT: String(portainer.port),
    LOG_LEVEL: 'warn',
  };
  try {
    const started = Date.now();
    const first = await cliChild(['bootstrap', '--json'], env);
    const firstMs = Date.now() - started;
    if (first.code !== 0) throw new Error(`bootstrap failed: ${first.stdout}${first.stderr}`);
    const pieces = (JSON.parse(first.stdout) as { pieces: { title: string; ms: number }[] }).pieces;
    const again = Date.now();
    const second = await cliChild(['bootstrap', '--json'], env);
    const secondMs = Date.now() - again;
    if (second.code !== 0) throw new Error(`second bootstrap failed: ${second.stderr}`);
    return [
      ...pieces.map((p) => ({
        name: `bootstrap on the stand-ins: ${p.title}`,
        value: p.ms,
        unit: 'ms',
        goal: 'measured',
      })),
      {
        name: 'bootstrap on the stand-ins: whole first run (process)',
        value: firstMs,
        unit: 'ms',
        goal: 'measured',
      },
      {
        name: 'bootstrap on the stand-ins: second run, nothing to do (process)',
        value: secondMs,
        unit: 'ms',
        goal: 'measured',
      },
    ];
  } finally {
    await portainer.close();
    await kube.close();
    await db.drop();
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
