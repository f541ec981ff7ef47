// One environment's share of a step's system, judged as the consistency check judges it: the
// step's listing read once (observe), then its pure assessment against what the row implies.
import { reader } from '../../src/consistency/check.js';
import { command, type Environment } from '../../src/domain/index.js';
import type { StepHandler, Want } from '../../src/lifecycle/step.js';

export async function assess(step: StepHandler, env: Environment, want: Partial<Want> = {}) {
  const view = await step.observe(reader(10_000, (text) => text));
  const repair = command('sync', env.name);
  return view.assess({ env, tree: null, route: '', repair, recreate: repair, ...want });
}
