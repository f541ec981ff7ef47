// What one create costs the database, counted: every statement sent for recording a create and
// running it with instant systems (unwatched, as a CLI --json or a test; watched, as a worker with
// its reporter), and how often the CSV snapshot is rewritten for a burst of creates and deletes
// (once a second at most, off the operations' path) against the operations it covers.
import { envName } from '../src/domain/index.js';
import { trigger } from './lifecycle.js';
import { Engine } from '../src/lifecycle/engine.js';
import { SnapshotWriter } from '../src/store/csv-snapshot.js';
import { fakeSystems } from '../test/support/fake-steps.js';
import { withPostgresStore } from '../test/support/db.js';
import { countStatements } from '../test/support/statements.js';
import type { Figure } from './figure.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function roundTripFigures(): Promise<Figure[]> {
  const { store, cleanup } = await withPostgresStore();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-csv-'));
  const statements = countStatements();
  try {
    await store.migrate();
    const snapshot = SnapshotWriter.of(store, path.join(dir, 'environments.csv'), () => undefined);
    const engine = new Engine({
      store,
      handlers: fakeSystems().handlers,
      retryDelaysMs: [],
      afterChange: async () => snapshot.request(),
    });
    const counted = async (name: string, watched: boolean) => {
      const before = statements.sent;
      const op = await engine.request({
        kind: 'create',
        name: envName(name),
        provider: 'k3d',
        trigger,
      });
      await engine.execute(op.id, {
        owner: 'bench:1',
        ...(watched ? { observer: { onUpdate: () => undefined } } : {}),
      });
      return statements.sent - before;
    };
    const unwatched = await counted('rt-a', false);
    const watched = await counted('rt-b', true);
    await snapshot.flush();
    const writesBefore = snapshot.writes;
    const started = performance.now();
    for (let i = 0; i < 50; i++) {
      const name = envName(`rt-burst-${i}`);
      const op = await engine.request({ kind: 'create', name, provider: 'k3d', trigger });
      await engine.execute(op.id, { owner: 'bench:1' });
    }
    await snapshot.flush();
    const seconds = (performance.now() - started) / 1000;
    return [
      {
        name: 'database statements: a create recorded and run (instant systems), unwatched',
        value: unwatched,
        unit: 'statements',
        goal: 'was 162',
      },
      {
        name: 'database statements: the same, watched by a reporter',
        value: watched,
        unit: 'statements',
        goal: '—',
      },
      {
        name: `CSV snapshot rewrites for 50 creates (100 changes) in ${seconds.toFixed(1)} s`,
        value: snapshot.writes - writesBefore,
        unit: 'writes',
        goal: '≤ 1 a second (was 2 per operation: 100)',
      },
    ];
  } finally {
    statements.restore();
    fs.rmSync(dir, { recursive: true, force: true });
    await cleanup();
  }
}
