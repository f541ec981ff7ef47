// The bot's own overhead for create + delete: the engine and the store with instant systems (in-memory
// step handlers), so the figure is ours alone — database writes, step bookkeeping, reporting hooks.
import { envName, type Trigger } from '../src/domain/index.js';
import { Engine } from '../src/lifecycle/engine.js';
import type { Store } from '../src/store/store.js';
import { fakeSystems } from '../test/support/fake-steps.js';
import type { Figure } from './figure.js';

/** Who asks in the benches: the CLI, with nothing to report to. */
export const trigger: Trigger = {
  source: 'cli',
  actor: 'bench',
  url: null,
  repo: null,
  issueNumber: null,
  headSha: null,
};

export async function lifecycleOverhead(
  label: string,
  store: Store,
  count: number,
): Promise<Figure[]> {
  await store.migrate();
  const engine = new Engine({ store, handlers: fakeSystems().handlers, retryDelaysMs: [] });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = envName(`bench-${i}`);
    const start = performance.now();
    const created = await engine.request({
      kind: 'create',
      name,
      provider: i % 2 ? 'kind' : 'k3d',
      trigger,
    });
    const c = await engine.execute(created.id, { owner: 'bench:1' });
    const deleted = await engine.request({ kind: 'delete', name, trigger });
    const d = await engine.execute(deleted.id, { owner: 'bench:1' });
    times.push(performance.now() - start);
    if (c?.status !== 'success' || d?.status !== 'success')
      throw new Error(`bench environment ${name} did not succeed`);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return [
    {
      name: `create + delete overhead, median (${label}, ${count} environments)`,
      value: p(0.5),
      unit: 'ms',
      goal: '< 300 ms',
    },
    {
      name: `create + delete overhead, p95 (${label})`,
      value: p(0.95),
      unit: 'ms',
      goal: '< 300 ms',
    },
  ];
}
