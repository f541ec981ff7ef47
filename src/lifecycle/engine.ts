// The lifecycle engine: requests are recorded in the database first; `execute` claims an
// operation, then runs its steps in order — check → ensure | remove → record → report — and
// resumes at the first unfinished step after a crash, a failure (retry) or a lost worker.
import {
  command,
  Failure,
  Redactor,
  busyFailure,
  messageOf,
  type EnvName,
  type Operation,
  type Trigger,
  notFound,
} from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { EngineApi, OperationObserver, OperationRequest } from './engine-api.js';
import { retryCommand } from './hints.js';
import { runSteps, type StepRunnerDeps } from './run-steps.js';
import type { LogFn } from '../system/log.js';
import {
  requestCreate,
  requestDeploy,
  requestPower,
  requestRepair,
  type RequestContext,
} from './requests.js';
import type { EngineDeps } from './engine-deps.js';
import { requestUpdate } from './request-update.js';

export type { EngineDeps };

export class Engine implements EngineApi {
  private readonly store: Store;
  private readonly leaseMs: number;
  private readonly now: () => Date;

  constructor(private readonly deps: EngineDeps) {
    this.store = deps.store;
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * The same engine recording through `store` (one bound to a transaction: see
   * Store.atomically). Derived data is not refreshed from inside: the caller does, after commit.
   */
  within(store: Store): Engine {
    const { afterChange: _derived, ...deps } = this.deps;
    return new Engine({ ...deps, store });
  }

  /**
   * Rewrites derived data (the CSV snapshot) after a change recorded through within(): of the
   * environments named, or of everything.
   */
  async refresh(names?: Iterable<string>): Promise<void> {
    if (!names) return this.refreshDerived();
    for (const name of new Set(names)) await this.refreshDerived(name);
  }

  async request(request: OperationRequest): Promise<Operation> {
    const e: RequestContext = {
      store: this.store,
      deps: this.deps,
      now: this.now,
      refreshDerived: (name) => this.refreshDerived(name),
      isOrphan: (op) => this.isOrphan(op),
    };
    if (request.kind === 'create') return requestCreate(e, request);
    if (request.kind === 'sync' || request.kind === 'prune') return requestRepair(e, request);
    if (request.kind === 'deploy') return requestDeploy(e, request);
    if (request.kind === 'stop' || request.kind === 'start') return requestPower(e, request);
    if (request.kind === 'update') return requestUpdate(e, request);
    const env = await this.store.getEnvironment(request.name);
    if (!env) throw notFound(request.name);
    await this.supersedeOrphan(request.name);
    return this.store.createOperation({
      envName: request.name,
      kind: 'delete',
      trigger: request.trigger,
    });
  }

  async retry(name: EnvName, trigger: Trigger): Promise<Operation> {
    const active = await this.store.activeOperation(name);
    if (active) {
      // Queued but never started (its requester stopped before running it): run it now; the
      // claim decides if a worker gets there first.
      if (active.status === 'queued') return active;
      if (active.status === 'running' && this.isOrphan(active)) {
        await this.store.releaseLease(active.id, leaseOwnerOf(active));
        return active;
      }
      throw busyFailure(active);
    }
    const last = await this.store.latestOperation(name);
    if (!last)
      throw new Failure(
        'not_found',
        `environment "${name}" has no operation to retry`,
        command('list'),
      );
    if (last.status === 'success') {
      throw new Failure(
        'nothing_to_do',
        `nothing to retry: the last operation on "${name}" (${last.kind} #${last.id}) succeeded`,
        command('status', name),
      );
    }
    // Who asked this time is the actor from now on.
    const reopened = await this.store.reopenOperation(last.id, {
      actor: trigger.actor,
      source: trigger.source,
      via: trigger.via ?? null,
    });
    this.deps.log?.('info', 'operation reopened', {
      operation: reopened.id,
      env: name,
      actor: trigger.actor,
    });
    return reopened;
  }

  async cancel(name: EnvName): Promise<Operation | null> {
    const op = await this.store.requestCancel(name);
    if (op && op.status === 'queued') {
      return this.store.updateOperation(op.id, {
        status: 'cancelled',
        completedAt: this.now(),
        error: 'cancelled before it started',
      });
    }
    if (op && op.status === 'running' && this.isOrphan(op)) {
      // Its worker is gone: nothing would ever see the request. Stop it here and say so; the
      // step it was in is marked interrupted, and a retry resumes there.
      const at = this.now();
      const step = op.steps.find((s) => s.status === 'running');
      if (step)
        await this.store.saveStep(op.id, {
          ...step,
          status: 'failed',
          error: 'interrupted: its worker had stopped',
          completedAt: at,
        });
      return this.store.updateOperation(op.id, {
        status: 'cancelled',
        completedAt: at,
        currentStep: null,
        error:
          `cancelled: its worker (${op.leaseOwner ?? 'unknown'}) ` +
          `had stopped${step ? ` during ${step.step}` : ''}`,
        fixCommand: retryCommand(name),
      });
    }
    return op;
  }

  async execute(
    operationId: number,
    options: { owner: string; signal?: AbortSignal; observer?: OperationObserver },
  ): Promise<Operation | null> {
    const claimed = await this.store.claimOperation(operationId, options.owner, this.leaseMs);
    if (!claimed) return null;
    // Every line about this operation says which one it is.
    const bound = {
      operation: operationId,
      kind: claimed.kind,
      env: claimed.envName,
      worker: options.owner,
    };
    const log: LogFn = (level, message, fields) =>
      this.deps.log?.(level, message, { ...bound, ...fields });
    log('info', 'operation started', {
      attempt: claimed.attempt,
      actor: claimed.trigger.actor,
      trigger: claimed.trigger.source,
    });
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (options.signal?.aborted) onOuterAbort();
    // The lease is ours until the last renewal the database confirmed runs out. Past that, with
    // the database not answering, another worker may have it: stop rather than run it twice.
    let heldUntil = this.now().getTime() + this.leaseMs;
    const heartbeat = setInterval(
      () => {
        const asked = this.now().getTime();
        this.store.renewLease(operationId, options.owner, this.leaseMs).then(
          (held) => {
            if (!held) abort.abort(new Error('lease lost to another worker'));
            else heldUntil = asked + this.leaseMs;
          },
          (error: unknown) => {
            log('warn', 'lease renewal failed', { error: messageOf(error) });
            if (this.now().getTime() >= heldUntil)
              abort.abort(new Error('lease ran out while the database did not answer'));
          },
        );
      },
      Math.max(250, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref?.();
    try {
      const runnerDeps: StepRunnerDeps = {
        store: this.store,
        handlers: this.deps.handlers,
        redactor: this.deps.redactor ?? new Redactor(),
        retryDelaysMs: this.deps.retryDelaysMs ?? [1_000, 4_000],
        now: this.now,
        sleep: this.deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        log,
        ...(this.deps.ready ? { ready: this.deps.ready } : {}),
      };
      const final = await runSteps(claimed, runnerDeps, abort.signal, options.observer);
      const outcome =
        final.status === 'running' ? 'handed back (shutdown or lease lost)' : final.status;
      log(final.status === 'failed' ? 'warn' : 'info', `operation ${outcome}`, {
        ...(final.failedStep ? { step: final.failedStep, error: final.error } : {}),
        ms: this.now().getTime() - claimed.updatedAt.getTime(),
      });
      if (final.status === 'running') {
        // Stopped by shutdown or a lost lease: hand the operation back for another worker to
        // resume.
        await this.store.releaseLease(operationId, options.owner).catch(() => undefined);
        // As it was left, when the database can say (the step loop reads back only for watchers).
        return (await this.store.getOperation(operationId).catch(() => null)) ?? final;
      }
      await this.refreshDerived(final.envName);
      await this.followUp(final).catch((error: unknown) =>
        log('warn', 'queueing the newest head failed', { error: messageOf(error) }),
      );
      return final;
    } finally {
      clearInterval(heartbeat);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  /** Rewrites derived data (the CSV snapshot); a failure is logged, never fatal. */
  private async refreshDerived(name?: string): Promise<void> {
    await this.deps
      .afterChange?.(name)
      .catch((error: unknown) =>
        this.deps.log?.('warn', 'refreshing derived data failed', { error: messageOf(error) }),
      );
  }

  /**
   * After an operation on a pull request's environment: a head that came in while it ran (and is
   * neither what the branch holds nor what just failed) is deployed next.
   */
  private async followUp(final: Operation): Promise<void> {
    if (final.kind === 'delete' || final.kind === 'prune') return;
    const env = await this.store.getEnvironment(final.envName);
    const source = env?.source;
    if (!env || !source || env.status !== 'ready') return;
    if (source.sha === env.deployed?.sha || source.sha === final.trigger.headSha) return;
    if (await this.store.activeOperation(env.name)) return;
    // Reported where the pull request's operations are (a sync from the CLI has no conversation).
    const base = final.trigger.repo
      ? final.trigger
      : ((await this.store.latestOperation(env.name, 'create'))?.trigger ?? final.trigger);
    const op = await this.store.createOperation({
      envName: env.name,
      kind: 'deploy',
      trigger: { ...base, source: 'pull_request', actor: source.by, headSha: source.sha },
    });
    this.deps.log?.('info', 'newest head queued', { operation: op.id, env: env.name });
  }

  /**
   * A delete may take over from an operation whose worker died (a half-created environment can
   * always be deleted).
   */
  private async supersedeOrphan(name: EnvName): Promise<void> {
    const active = await this.store.activeOperation(name);
    if (!active) return;
    if (active.status === 'running' && this.isOrphan(active)) {
      await this.store.updateOperation(active.id, {
        status: 'cancelled',
        completedAt: this.now(),
        error: 'superseded by a delete after its worker stopped',
      });
      return;
    }
    throw busyFailure(active);
  }

  /** Its worker is gone: no owner, a dead process on this machine, or a lease that ran out. */
  private isOrphan(op: Operation): boolean {
    const owner = leaseOwnerOf(op);
    if (!owner) return true;
    if (op.leaseExpiresAt && op.leaseExpiresAt.getTime() < this.now().getTime()) return true;
    return this.deps.ownerAlive ? !this.deps.ownerAlive(owner) : false;
  }
}

function leaseOwnerOf(op: Operation): string {
  return op.leaseOwner ?? '';
}
