// In-memory step handlers for engine tests: they keep the state of each "system", record every
// call, and fail on demand — so tests can assert order, idempotence and resumption.
import { TransientError, type Environment } from '../../src/domain/index.js';
import {
  listingView,
  type StepContext,
  type StepHandler,
  type SystemName,
  type SystemStep,
} from '../../src/lifecycle/step.js';

export const SYSTEM_STEPS: SystemStep[] = ['branch', 'cluster', 'portainer', 'argocd', 'haproxy'];
const SYSTEM_OF: Record<SystemStep, SystemName> = {
  branch: 'git',
  cluster: 'k3d',
  portainer: 'portainer',
  argocd: 'argocd',
  haproxy: 'haproxy',
};

export interface FakeSystems {
  handlers: Record<SystemStep, StepHandler>;
  /** Which environments exist in each system. */
  present: Record<SystemStep, Set<string>>;
  calls: string[];
  /** Make the next `times` calls of `step.action` throw. */
  failNext(
    step: SystemStep,
    action: 'ensure' | 'remove' | 'stop' | 'start',
    error: Error,
    times?: number,
  ): void;
  skip: Partial<Record<SystemStep, string>>;
  /** Called inside ensure/remove before it acts (e.g. to block or to cancel). */
  during?: (
    step: SystemStep,
    action: 'ensure' | 'remove' | 'stop' | 'start',
    ctx: StepContext,
  ) => Promise<void> | void;
}

export function fakeSystems(): FakeSystems {
  const present = Object.fromEntries(SYSTEM_STEPS.map((s) => [s, new Set<string>()])) as Record<
    SystemStep,
    Set<string>
  >;
  const failures: { step: SystemStep; action: string; error: Error; times: number }[] = [];
  const systems: FakeSystems = {
    present,
    calls: [],
    skip: {},
    handlers: {} as Record<SystemStep, StepHandler>,
    failNext(step, action, error, times = 1) {
      failures.push({ step, action, error, times });
    },
  };
  const maybeFail = (step: SystemStep, action: string) => {
    const f = failures.find((x) => x.step === step && x.action === action && x.times > 0);
    if (f) {
      f.times -= 1;
      throw f.error;
    }
  };
  for (const step of SYSTEM_STEPS) {
    systems.handlers[step] = {
      step,
      skipReason: (_env: Environment) => systems.skip[step] ?? null,
      async observe(read) {
        const listed =
          systems.skip[step] ?? (async () => [...present[step]].map((name) => ({ name })));
        return listingView(SYSTEM_OF[step], await read(listed), {
          assess: ({ env, recreate }, find) =>
            find(env.name)
              ? []
              : [{ kind: 'missing', detail: `no ${step} "${env.name}"`, fix: recreate }],
          what: (item) => `${step} "${item.name}"`,
        });
      },
      async ensure(ctx) {
        systems.calls.push(`${step}.ensure ${ctx.env.name}`);
        await systems.during?.(step, 'ensure', ctx);
        maybeFail(step, 'ensure');
        const had = present[step].has(ctx.env.name);
        present[step].add(ctx.env.name);
        ctx.log(`${step} ensured`);
        return had ? 'already present' : 'created';
      },
      async remove(ctx) {
        systems.calls.push(`${step}.remove ${ctx.env.name}`);
        await systems.during?.(step, 'remove', ctx);
        maybeFail(step, 'remove');
        return present[step].delete(ctx.env.name) ? 'deleted' : 'already absent';
      },
      async stop(ctx) {
        systems.calls.push(`${step}.stop ${ctx.env.name}`);
        await systems.during?.(step, 'stop', ctx);
        maybeFail(step, 'stop');
        return `${step} stopped`;
      },
      async start(ctx) {
        systems.calls.push(`${step}.start ${ctx.env.name}`);
        await systems.during?.(step, 'start', ctx);
        maybeFail(step, 'start');
        return `${step} started`;
      },
      async prune(ctx) {
        systems.calls.push(`${step}.prune ${ctx.name}`);
        maybeFail(step, 'prune');
        return present[step].delete(ctx.name) ? 'deleted' : 'already absent';
      },
    };
  }
  return systems;
}

export const transient = (message: string) => new TransientError(message);
