// The step loop of one claimed operation. Each step's state is saved before and after it runs,
// so a crash anywhere resumes at the first step that is not done. Create stops at the first
// failure; delete treats a Git failure as a warning and goes on; the row goes last.
import {
  TransientError,
  archiveBranchName,
  classify,
  ensures,
  isDatabaseUnavailable,
  messageOf,
  planUpdate,
  stepsFor,
  type EnvStatus,
  type Environment,
  type Operation,
  type Redactor,
  type StepAction,
  type StepName,
  type StepState,
} from '../domain/index.js';
import type { StepPatch, Store } from '../store/store.js';
import type { OperationObserver } from './engine-api.js';
import { branchCleanupCommand, deleteCommand, retryCommand } from './hints.js';
import type { StepHandler, SystemStep } from './step.js';
import type { LogFn } from '../system/log.js';

export interface StepRunnerDeps {
  store: Store;
  handlers: Record<SystemStep, StepHandler>;
  redactor: Redactor;
  retryDelaysMs: number[];
  /** The `ready` step: waits until the environment answers (absent: ready at once). */
  ready?: (
    env: Environment,
    ctx: { signal: AbortSignal; log(line: string): void },
  ) => Promise<string>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log?: LogFn;
}

const LOG_LIMIT = 8_000;

export async function runSteps(
  claimed: Operation,
  deps: StepRunnerDeps,
  signal: AbortSignal,
  observer?: OperationObserver,
): Promise<Operation> {
  const { store } = deps;
  let op = claimed;
  let env = await store.getEnvironment(op.envName);
  let log = op.logOutput ?? '';
  // Read back for whoever watches (and at the end): unwatched, a step costs its writes only.
  const notify = async (final = false) => {
    if (!observer && !final) return;
    op = (await store.getOperation(op.id)) ?? op;
    try {
      await observer?.onUpdate(op, env);
    } catch (error) {
      deps.log?.('warn', 'reporting progress failed', {
        operation: op.id,
        error: messageOf(error),
      });
    }
  };
  const appendLog = (line: string) => {
    log = `${log}${deps.redactor.redact(line)}\n`.slice(-LOG_LIMIT);
  };
  const finish = async (
    status: Operation['status'],
    patch: Partial<Pick<Operation, 'error' | 'fixCommand' | 'failedStep'>>,
    envStatus?: EnvStatus,
  ) => {
    // A prune's name has no row of its own (one that appears belongs to someone else).
    if (envStatus && env && op.kind !== 'prune')
      env = await store.updateEnvironment(env.name, { status: envStatus });
    await store.patchOperation(op.id, {
      status,
      completedAt: deps.now(),
      currentStep: null,
      logOutput: log || null,
      ...patch,
    });
    await notify(true);
    return op;
  };

  // A sync leaves the row's status alone while it runs (the environment is there, mostly).
  const working = op.kind === 'delete' ? 'deleting' : op.kind === 'create' ? 'creating' : null;
  if (env && working && env.status !== working)
    env = await store.updateEnvironment(env.name, { status: working });
  await notify();

  for (const step of stepsFor(op.kind)) {
    const state = op.steps.find((s) => s.step === step);
    if (state && ['done', 'skipped', 'warning'].includes(state.status)) continue;
    if (signal.aborted) return op;
    if (await store.cancelRequested(op.id)) {
      const fixCommand = env || op.kind === 'prune' ? retryCommand(op.envName) : null;
      const error = `cancelled before step ${step}`;
      return finish('cancelled', { error, fixCommand }, failedStatus(op, env));
    }
    if (op.kind === 'prune') {
      // Looked up right before each removal: a create that started meanwhile wins.
      if (await store.getEnvironment(op.envName))
        return finish('cancelled', {
          error:
            `a database row for "${op.envName}" appeared; prune removes only ` +
            `what no row claims`,
          fixCommand: null,
        });
    } else if (!env) {
      // The row goes last on delete: no row means every other step already ran.
      if (op.kind === 'delete') {
        await save(store, op.id, step, 'done', 'row already removed', null, deps.now);
        continue;
      }
      return finish('failed', {
        error: `the row of "${op.envName}" disappeared during ${op.kind}`,
        failedStep: step,
        fixCommand: null,
      });
    }

    const current = env;
    const startedAt = deps.now();
    await save(store, op.id, step, 'running', null, null, deps.now, startedAt, {
      currentStep: step,
    });
    await notify();
    try {
      const detail = await runOne(step, op, current, deps, signal, appendLog);
      if (step === 'record' && op.kind === 'delete') env = null;
      if (step === 'ready' && env)
        env = await store.updateEnvironment(env.name, { status: 'ready' });
      appendLog(`${step}: ${detail.text}`);
      const ended = detail.skipped ? 'skipped' : 'done';
      await save(store, op.id, step, ended, detail.text, null, deps.now, startedAt, {
        logOutput: log || null,
      });
      await notify();
    } catch (error) {
      // Shutdown, a lost lease, or our own database gone mid-step: nothing the environment did
      // wrong. Leave it for the next worker, which resumes at this step.
      if (signal.aborted || isDatabaseUnavailable(error)) return op;
      const message = deps.redactor.redact(messageOf(error));
      appendLog(`${step}: ${message}`);
      if (op.kind === 'delete' && step === 'branch') {
        const text =
          `branch "${op.envName}" left behind: ${message}. ` +
          `To clean up: ${branchCleanupCommand(op.envName)}`;
        await save(store, op.id, step, 'warning', text, message, deps.now, startedAt, {
          logOutput: log || null,
        });
        await notify();
        continue;
      }
      if (classify(error) === 'bug')
        deps.log?.('error', 'step failed', {
          operation: op.id,
          env: op.envName,
          step,
          error: message,
        });
      await save(store, op.id, step, 'failed', null, message, deps.now, startedAt);
      const fixCommand =
        op.kind === 'delete' ? deleteCommand(op.envName) : retryCommand(op.envName);
      return finish(
        'failed',
        { error: message, failedStep: step, fixCommand },
        failedStatus(op, env),
      );
    }
  }
  // A resumed create may find every step done already: the row still ends up ready. An update
  // of a stopped environment (its expiry) leaves it stopped.
  const stays = op.kind === 'update' && env?.status === 'stopped';
  return finish(
    'success',
    { error: null, fixCommand: null, failedStep: null },
    op.kind === 'stop' ? 'stopped' : ensures(op.kind) && !stays ? 'ready' : undefined,
  );
}

/**
 * The row's status when an operation stops short: a deploy, stop or start leaves the environment
 * as it was (the previous head still serves; the cluster is as the CLI left it, which a check
 * shows); any other ensure leaves it failed; a delete, delete_failed.
 */
function failedStatus(op: Operation, env: Environment | null): EnvStatus | undefined {
  if (!env || op.kind === 'deploy' || op.kind === 'stop' || op.kind === 'start') return undefined;
  return ensures(op.kind) ? 'failed' : 'delete_failed';
}

async function runOne(
  step: StepName,
  op: Operation,
  env: Environment | null,
  deps: StepRunnerDeps,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<{ text: string; skipped?: boolean }> {
  if (step === 'record') {
    if (op.kind !== 'delete' || !env) return { text: 'row recorded' };
    return {
      text: (await deps.store.deleteEnvironment(env.name)) ? 'row removed' : 'row already removed',
    };
  }
  if (step === 'ready')
    return {
      text: deps.ready && env ? await deps.ready(env, { signal, log }) : 'environment ready',
    };
  const handler = deps.handlers[step];
  let action: () => Promise<string>;
  if (op.kind === 'prune' || !env) {
    // An orphan has no row: the step gets its name, and where its branch is kept.
    const archiveAs = archiveBranchName(op.envName, op.startedAt);
    action = () => handler.prune({ name: op.envName, archiveAs, log, signal });
  } else {
    const act = op.kind === 'update' ? updateAction(op, step) : 'ensure';
    // A registration being removed is removed whatever the row says of it now.
    const skip = handler.skipReason(
      act === 'remove' ? { ...env, registerPortainer: true, haproxyRoute: true } : env,
    );
    if (skip) return { text: `skipped: ${skip}`, skipped: true };
    // The head a pull request's create, deploy or rollback renders; a sync keeps the branch's.
    const headSha =
      op.kind === 'create' || op.kind === 'deploy' || op.kind === 'update'
        ? op.trigger.headSha
        : null;
    const ctx = { env, log, signal, headSha };
    action = () => {
      if (act === 'remove') return handler.remove(ctx);
      if (act === 'resize') {
        if (!handler.resize) throw new Error(`the ${step} step cannot resize`);
        return handler.resize(ctx);
      }
      if (act === 'recreate') {
        const from = op.change?.from;
        if (!handler.recreate || !from) throw new Error(`the ${step} step cannot recreate`);
        const before = {
          ...env,
          provider: from.provider,
          servers: from.servers,
          agents: from.agents,
          nodeCpus: from.nodeCpus,
          nodeMemoryMib: from.nodeMemoryMib,
        };
        return handler.recreate(ctx, before);
      }
      if (op.kind === 'stop' || op.kind === 'start') {
        const act = handler[op.kind];
        if (!act) throw new Error(`the ${step} step cannot ${op.kind}`);
        return act.call(handler, ctx);
      }
      return ensures(op.kind) ? handler.ensure(ctx) : handler.remove(ctx);
    };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return { text: await action() };
    } catch (error) {
      const delay = deps.retryDelaysMs[attempt];
      if (!(error instanceof TransientError) || delay === undefined || signal.aborted) throw error;
      log(`${step}: ${deps.redactor.redact(messageOf(error))} — retrying in ${delay} ms`);
      await deps.sleep(delay);
    }
  }
}

/** What an update does at `step`, from its recorded change (ensure when it has none). */
function updateAction(op: Operation, step: StepName): StepAction {
  if (!op.change || step === 'record') return 'ensure';
  return planUpdate(op.change.from, op.change.to).actions[step] ?? 'ensure';
}

async function save(
  store: Store,
  id: number,
  step: StepName,
  status: StepState['status'],
  detail: string | null,
  error: string | null,
  now: () => Date,
  startedAt?: Date,
  op?: StepPatch,
): Promise<void> {
  const done = status !== 'running';
  const state = { step, status, detail, error, startedAt: startedAt ?? now() };
  await store.saveStep(id, { ...state, completedAt: done ? now() : null }, op);
}
