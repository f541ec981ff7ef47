// The lifecycle engine: requests are recorded in the database first; `execute` claims an
// operation, then runs its steps in order — check → ensure | remove → record → report — and
// resumes at the first unfinished step after a crash, a failure (retry) or a lost worker.
import {
  command,
  ACTIVE_STATUSES,
  Failure,
  stepsFor,
  checkDerivedNames,
  Redactor,
  alreadyExists,
  busyFailure,
  messageOf,
  type EnvName,
  type Operation,
  type ProviderName,
  type StepState,
  type Trigger,
  notFound,
} from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { EngineApi, OperationObserver, OperationRequest } from './engine-api.js';
import { deleteCommand, retryCommand } from './hints.js';
import { runSteps, type StepRunnerDeps } from './run-steps.js';
import type { StepHandler, SystemStep } from './step.js';
import type { LogFn } from '../system/log.js';

export interface EngineDeps {
  store: Store;
  handlers: Record<SystemStep, StepHandler>;
  redactor?: Redactor;
  leaseMs?: number;
  /** Delays before retrying a step that failed with a TransientError. */
  retryDelaysMs?: number[];
  /** The `ready` step's probe (see StepRunnerDeps.ready). */
  ready?: StepRunnerDeps['ready'];
  /** After every finished operation: refresh derived data (the CSV snapshot). Errors are logged, not fatal. */
  afterChange?: () => Promise<void>;
  /** Names starting with this belong to pull requests: only a pull request's label creates one. */
  pullRequestPrefix?: string;
  /** Why an environment of this provider cannot be made here (its CLIs missing), or null. */
  preflight?: (provider: ProviderName) => string | null;
  /** True when the worker named `owner` may still be running (CLI: same host and pid alive). */
  ownerAlive?: (owner: string) => boolean;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  log?: LogFn;
}

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

  /** Rewrites derived data (the CSV snapshot) after a change recorded through within(). */
  refresh(): Promise<void> {
    return this.refreshDerived();
  }

  async request(request: OperationRequest): Promise<Operation> {
    if (request.kind === 'create') return this.requestCreate(request);
    if (request.kind === 'sync' || request.kind === 'prune') return this.requestRepair(request);
    if (request.kind === 'deploy') return this.requestDeploy(request);
    if (request.kind === 'stop' || request.kind === 'start') return this.requestPower(request);
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
        error: `cancelled: its worker (${op.leaseOwner ?? 'unknown'}) had stopped${step ? ` during ${step.step}` : ''}`,
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
        // Stopped by shutdown or a lost lease: hand the operation back for another worker to resume.
        await this.store.releaseLease(operationId, options.owner).catch(() => undefined);
        return final;
      }
      await this.refreshDerived();
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
  private async refreshDerived(): Promise<void> {
    await this.deps
      .afterChange?.()
      .catch((error: unknown) =>
        this.deps.log?.('warn', 'refreshing derived data failed', { error: messageOf(error) }),
      );
  }

  private async requestCreate(
    request: Extract<OperationRequest, { kind: 'create' }>,
  ): Promise<Operation> {
    // Every surface checks this first; the engine keeps it true for any caller.
    const tooLong = checkDerivedNames(request.name, request.provider);
    if (tooLong) throw new Failure('invalid_input', tooLong);
    const prefix = this.deps.pullRequestPrefix ?? 'pr-';
    // Taken by hand, pr-99 would be refused to pull request #99's preview later.
    if (request.trigger.source !== 'pull_request' && request.name.startsWith(prefix))
      throw new Failure(
        'invalid_input',
        `"${request.name}" starts with ${prefix}, which belongs to pull requests: label a pull request env:k3d or env:kind for its ${prefix}<number> environment, or choose another name; nothing was done`,
      );
    // What the cluster step will need is looked for before anything is recorded.
    const missing = this.deps.preflight?.(request.provider);
    if (missing) throw new Failure('not_configured', missing);
    const existing = await this.store.getEnvironment(request.name);
    if (existing) {
      const last = await this.store.latestOperation(request.name);
      throw alreadyExists(
        existing,
        existing.status === 'failed' ||
          (last !== null && !ACTIVE_STATUSES.includes(last.status) && last.status !== 'success'),
      );
    }
    const options = request.options ?? {};
    const ttl = options.ttlMs ?? null;
    const env = await this.store.insertEnvironment({
      name: request.name,
      provider: request.provider,
      ...(options.registerPortainer !== undefined
        ? { registerPortainer: options.registerPortainer }
        : {}),
      ...(options.haproxyRoute !== undefined ? { haproxyRoute: options.haproxyRoute } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.source ? { source: options.source } : {}),
      requestedBy: request.trigger.actor,
      sourceUrl: request.trigger.url ?? request.trigger.source,
      expiresAt: ttl === null ? null : new Date(this.now().getTime() + ttl),
    });
    try {
      const op = await this.store.createOperation({
        envName: env.name,
        kind: 'create',
        trigger: request.trigger,
      });
      const at = this.now();
      const record: StepState = {
        step: 'record',
        status: 'done',
        startedAt: at,
        completedAt: at,
        error: null,
        detail: `row recorded: http ${env.httpPort}, https ${env.httpsPort}, pf ${env.pfPort}${env.subnet ? `, subnet ${env.subnet}` : ''}`,
      };
      await this.store.saveStep(op.id, record);
      // The new row is in the CSV snapshot at once: a degraded `list` right after still shows it.
      await this.refreshDerived();
      return (await this.store.getOperation(op.id)) ?? op;
    } catch (error) {
      // DB first, and nothing else yet: undo the row so a refused request changes nothing.
      await this.store.deleteEnvironment(env.name).catch(() => undefined);
      throw error;
    }
  }

  private async requestRepair(
    request: Extract<OperationRequest, { kind: 'sync' | 'prune' }>,
  ): Promise<Operation> {
    const { name, kind } = request;
    const env = await this.store.getEnvironment(name);
    if (kind === 'prune' && env)
      throw new Failure(
        'invalid_input',
        `"${name}" has a database row; prune removes only what no row claims`,
        deleteCommand(name),
      );
    if (kind === 'sync' && !env)
      throw new Failure(
        'not_found',
        `environment "${name}" is not in the database; sync recreates only what the database holds`,
        command('list'),
      );
    if (env?.status === 'failed')
      throw new Failure(
        'invalid_input',
        `"${name}" is not synced: its last operation failed; resume it instead`,
        retryCommand(name),
      );
    if (env?.status === 'deleting' || env?.status === 'delete_failed')
      throw new Failure(
        'invalid_input',
        `"${name}" is not synced: it is being deleted (status ${env?.status}); finish the delete`,
        deleteCommand(name),
      );
    // One operation per environment: the store refuses a second one as busy. What the check
    // found in order is recorded as such: the operation runs only what it must.
    return this.store.createOperation({
      envName: name,
      kind,
      trigger: request.trigger,
      skip: stepsFor(kind).filter((s) => s !== 'ready' && !request.steps.includes(s as SystemStep)),
    });
  }

  private async requestDeploy(
    request: Extract<OperationRequest, { kind: 'deploy' }>,
  ): Promise<Operation> {
    const { name, source, trigger } = request;
    const env = await this.store.getEnvironment(name);
    if (!env) throw notFound(name);
    if (!/^[0-9a-f]{40}$/.test(source.sha))
      throw new Failure('invalid_input', `"${source.sha}" is not a commit id (40 hex digits)`);
    if (env.status === 'deleting' || env.status === 'delete_failed')
      throw new Failure(
        'invalid_input',
        `"${name}" is being deleted (status ${env.status}); nothing is deployed to it`,
        deleteCommand(name),
      );
    // The newest head is what the environment wants from now on, whatever runs now.
    await this.store.updateEnvironment(name, { source });
    const active = await this.store.activeOperation(name);
    // A deploy still queued is superseded; one a worker took meanwhile, or any other operation,
    // runs on, and the newest head is deployed when it ends (followUp).
    const superseded =
      active?.kind === 'deploy' &&
      active.status === 'queued' &&
      (await this.store.cancelQueued(active.id, `superseded by ${source.sha.slice(0, 7)}`));
    if (superseded)
      this.deps.log?.('info', 'deploy superseded', { operation: active.id, env: name });
    else if (active) return (await this.store.getOperation(active.id)) ?? active;
    if (env.status === 'failed')
      throw new Failure(
        'invalid_input',
        `"${name}" did not finish its last operation; ${source.sha.slice(0, 7)} is deployed once it has`,
        retryCommand(name),
      );
    return this.store.createOperation({ envName: name, kind: 'deploy', trigger });
  }

  private async requestPower(
    request: Extract<OperationRequest, { kind: 'stop' | 'start' }>,
  ): Promise<Operation> {
    const { kind, name, trigger } = request;
    const env = await this.store.getEnvironment(name);
    if (!env) throw notFound(name);
    const active = await this.store.activeOperation(name);
    if (active) throw busyFailure(active);
    if (kind === 'stop' && env.status === 'stopped')
      throw new Failure('nothing_to_do', `"${name}" is stopped already`, command('start', name));
    // A ready environment may be started too: its cluster may have been stopped outside kindler.
    if (env.status !== 'ready' && env.status !== 'stopped')
      throw new Failure(
        'invalid_input',
        `"${name}" cannot be ${kind === 'stop' ? 'stopped' : 'started'} while its status is ${env.status}; ${env.status === 'failed' ? 'resume its last operation first' : 'let its operation finish'}`,
        env.status === 'failed' ? retryCommand(name) : command('status', name),
      );
    return this.store.createOperation({ envName: name, kind, trigger });
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

  /** A delete may take over from an operation whose worker died (a half-created environment can always be deleted). */
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
