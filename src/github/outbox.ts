// The one place that writes to GitHub. Every comment, reaction, check run and issue the bot writes
// is recorded first (github_writes), then sent: redacted, fitted to GitHub's size limits, retried
// with backoff when the failure is passing (no answer, 5xx, 429), recorded as refused when GitHub
// says no (4xx). Writes to one account take turns among every process on the database
// (github_limits), and a limit GitHub answers with holds them all until it passes. A write not yet
// taken is tried again by the next pass (every minute, on the queue's schedule), also after a
// restart; what GitHub refused or the outbox gave up on stays on the dashboard. Nothing is
// swallowed.
//
// How each kind is written, and found again when an attempt's outcome is unknown, is
// github-writes.ts's.
//
// An operation's reports (its status comment, its check run, the 🚀/😕 on the comment that asked,
// and for a pull request's create or deploy the GitHub Deployment of its head)
// are rows keyed by the operation: whoever reports — the handler that recorded it, the worker
// running it, a pass after a restart — asks for the same row, and what is sent is rendered from
// the operation as it is when it is sent. So the reporter is bound to the operation from the
// moment it is recorded: a worker that takes it before the status comment exists creates the
// comment itself, and no update is ever written over by an older one.
import { randomUUID } from 'node:crypto';
import {
  httpStatusOf,
  isFinished,
  messageOf,
  deploymentState,
  deploysHead,
  type Operation,
  type Redactor,
  type UrlSettings,
} from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { WriteOutcome, WriteRecord } from '../store/writes.js';
import type { LogFn } from '../system/log.js';
import {
  GitHubWriter,
  HISTORY,
  describe,
  reactionTarget,
  reportKey,
  sharedComment,
  type ReportKind,
  type Write,
} from './github-writes.js';
import { splitRepo, type GitHubClient, type RepoRef } from './types.js';

export type { Write } from './github-writes.js';

export interface OutboxDeps {
  store: Pick<
    Store,
    | 'putWrite'
    | 'claimWrite'
    | 'finishWrite'
    | 'dueWrites'
    | 'forgetDeliveredWrites'
    | 'renewWrite'
    | 'reserveWriteTurn'
    | 'writesHeldUntil'
    | 'holdWrites'
    | 'getOperation'
    | 'getEnvironment'
    | 'updateOperation'
    | 'listOperations'
  >;
  redactor: Redactor;
  urls: UrlSettings;
  /** The installation's client for a repository, for writes sent without one (passes, workers). */
  clientFor?: (repo: RepoRef) => Promise<GitHubClient | null>;
  /** Who holds a claim (the process). */
  owner?: string;
  log?: LogFn;
  /** Waits before trying a write again in the same call (passing failures only). */
  retryDelaysMs?: number[];
  /** How long a claim keeps others off a write (a sender that died loses it after this). */
  leaseMs?: number;
  /** How long a write that failed `attempts` times waits for the next pass (default 1, 2, 4 … 60 min). */
  backoffMs?: (attempts: number) => number;
  /**
   * The least time between two writes to one account's repositories, among every process on the
   * database (GitHub: at most 80 content-creating requests a minute, a pause between mutative
   * ones). 0 or absent: no pacing (a limit GitHub set is still kept).
   */
  writeGapMs?: number;
  /** How long finished writes are kept (default 7 days). */
  keepWritesMs?: number;
}

/** After this many failed attempts a write is given up (it stays on the dashboard). */
export const MAX_ATTEMPTS = 8;

export interface Sent {
  delivered: boolean;
  /** The comment id, check run id or issue number GitHub gave it. */
  id: number | null;
  /** Why it was not delivered (GitHub's status and message, redacted). */
  error?: string;
}

/** True for a failure that may pass (no answer, a server error, a rate limit). */
function isPassing(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status === undefined) return true;
  if (status >= 500 || status === 429) return true;
  // GitHub's secondary rate limit answers 403 with a Retry-After or this message.
  return status === 403 && /rate limit/i.test(messageOf(error));
}

/**
 * Until when GitHub asked for no more requests, when it did: `retry-after` (seconds), or the
 * primary limit's `x-ratelimit-reset` (epoch seconds) once `x-ratelimit-remaining` is 0; a
 * secondary limit named without either means a minute (GitHub's documented wait).
 */
export function limitedUntil(error: unknown, now = Date.now()): Date | null {
  const status = httpStatusOf(error);
  if (status !== 403 && status !== 429) return null;
  const headers =
    (error as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers ?? {};
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
  };
  const retryAfter = header('retry-after');
  if (retryAfter !== null && /^\d+$/.test(retryAfter))
    return new Date(now + Number(retryAfter) * 1000);
  const reset = header('x-ratelimit-reset');
  if (header('x-ratelimit-remaining') === '0' && reset !== null && /^\d+$/.test(reset))
    return new Date(Math.max(now, Number(reset) * 1000));
  if (status === 429 || /secondary rate limit/i.test(messageOf(error)))
    return new Date(now + 60_000);
  return null;
}

/** Which limits a repository's writes share: its account's (one installation per account). */
const limitScope = (repo: string) => `github:${repo.split('/')[0]?.toLowerCase() ?? repo}`;

/** Backoff between passes for a write that keeps failing: 1, 2, 4 … 60 minutes. */
const backoffMs = (attempts: number) => Math.min(60, 2 ** Math.max(0, attempts - 1)) * 60_000;

export class Outbox {
  private readonly owner: string;
  private readonly delays: number[];
  /** One delivery per key at a time in this process; the lease does it between processes. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** How each kind of write is made at GitHub. */
  private readonly writer: GitHubWriter;

  constructor(private readonly deps: OutboxDeps) {
    this.writer = new GitHubWriter(deps);
    this.owner = deps.owner ?? `outbox:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.delays = deps.retryDelaysMs ?? [1_000, 4_000];
  }

  /**
   * Records a write and sends it now. `key` makes it idempotent (a redelivered webhook asks for the
   * same reply once). Resolves when GitHub took it or it was recorded as not taken; never throws
   * for GitHub's answer.
   */
  async send(write: Write, options: { key?: string; client?: GitHubClient } = {}): Promise<Sent> {
    const record = await this.record(write, options.key ?? `${write.kind}:${randomUUID()}`);
    if (record.state === 'delivered') return { delivered: true, id: record.externalId };
    return this.flush(record.key, options.client);
  }

  /**
   * Records a write without sending it, through `store` when given (one bound to the caller's
   * transaction: the write exists exactly when what it answers does). flush() sends it after the
   * commit; if the process dies first, the next pass does.
   */
  async record(
    write: Write,
    key: string,
    store: Pick<Store, 'putWrite'> = this.deps.store,
  ): Promise<WriteRecord> {
    const { repo, kind, ...request } = write;
    return store.putWrite({ key, repo: `${repo.owner}/${repo.repo}`, kind, request }, false);
  }

  /** Sends a recorded write now, unless it was delivered already. */
  async flush(key: string, client?: GitHubClient): Promise<Sent> {
    const after = await this.deliver(key, client);
    // null: not claimable (taken already, or another process is sending it).
    if (after === null) return { delivered: false, id: null };
    return after.state === 'delivered'
      ? { delivered: true, id: after.externalId }
      : { delivered: false, id: null, ...(after.error ? { error: after.error } : {}) };
  }

  /**
   * Sends a write without recording it: only for when the database is unreachable (the degraded
   * answers), where nothing could be recorded. Redacted, fitted and retried like any other.
   */
  async sendUnrecorded(write: Write, client: GitHubClient): Promise<Sent> {
    const { repo, kind, ...request } = write;
    const row: WriteRecord = {
      key: `${kind}:unrecorded:${randomUUID()}`,
      repo: `${repo.owner}/${repo.repo}`,
      kind,
      operationId: null,
      request,
      externalId: null,
      wanted: 1,
      delivered: 0,
      attempts: 1,
      state: 'pending',
      error: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    // Unrecorded means the database is unreachable: no shared turn to take.
    const outcome = await this.attempt(row, client, false);
    return 'delivered' in outcome
      ? { delivered: true, id: outcome.externalId ?? null }
      : {
          delivered: false,
          id: null,
          error: 'refused' in outcome ? outcome.refused : outcome.failed,
        };
  }

  /**
   * Brings the operation's reports up to date: its status comment (when it was asked for in a
   * conversation), its check run, and once it has ended the reaction on the comment that asked.
   */
  async report(op: Operation, client?: GitHubClient): Promise<void> {
    if (!op.trigger.repo) return;
    const kinds: ReportKind[] = ['status-check-run'];
    if (op.trigger.issueNumber !== null) kinds.unshift('status-comment');
    if (isFinished(op.status) && reactionTarget(op) !== null) kinds.push('status-reaction');
    if (deploysHead(op)) kinds.push('status-deployment');
    const history =
      deploysHead(op) || op.kind === 'delete'
        ? await this.deps.store.listOperations({ envName: op.envName, limit: HISTORY })
        : [];
    for (const kind of kinds) {
      const externalId =
        kind === 'status-comment'
          ? (op.commentId ?? sharedComment(op, history))
          : kind === 'status-check-run'
            ? op.checkRunId
            : kind === 'status-deployment'
              ? op.deploymentId
              : null;
      await this.put(op, kind, externalId, client);
    }
    // The environment's other deployments follow: superseded or deleted ones become inactive.
    const env = history.length ? await this.deps.store.getEnvironment(op.envName) : null;
    for (const other of history)
      if (
        other.id !== op.id &&
        other.deploymentId !== null &&
        deploymentState(other, env) !== other.deploymentState
      )
        await this.put(other, 'status-deployment', other.deploymentId, client);
  }

  private async put(
    op: Operation,
    kind: ReportKind,
    externalId: number | null,
    client?: GitHubClient,
  ): Promise<void> {
    const record = await this.deps.store.putWrite(
      {
        key: reportKey(op, kind),
        repo: op.trigger.repo as string,
        kind,
        operationId: op.id,
        request: {},
        externalId,
      },
      kind !== 'status-reaction',
    );
    await this.deliver(record.key, client);
  }

  /** Sends what is due (retries, and writes whose sender died). Returns how many were taken. */
  async pass(limit = 100): Promise<number> {
    let taken = 0;
    for (const row of await this.deps.store.dueWrites(limit)) {
      const after = await this.deliver(row.key);
      if (after?.state === 'delivered') taken++;
    }
    await this.deps.store.forgetDeliveredWrites(this.deps.keepWritesMs ?? 7 * 86_400_000);
    return taken;
  }

  private deliver(key: string, client?: GitHubClient): Promise<WriteRecord | null> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.deliverNow(key, client));
    const kept = next.catch(() => undefined);
    this.chains.set(key, kept);
    void kept.then(() => {
      if (this.chains.get(key) === kept) this.chains.delete(key);
    });
    return next;
  }

  /** Claims the row, sends it, records the outcome; again while more was asked for meanwhile. */
  private async deliverNow(key: string, client?: GitHubClient): Promise<WriteRecord | null> {
    let last: WriteRecord | null = null;
    const leaseMs = this.deps.leaseMs ?? 30_000;
    for (;;) {
      const row = await this.deps.store.claimWrite(key, this.owner, leaseMs);
      if (!row) return last;
      // Held while it waits for its turn or for GitHub: the claim is renewed, so no other
      // process takes a write that is still being sent.
      const renew = setInterval(
        () => void this.deps.store.renewWrite(key, this.owner, leaseMs).catch(() => undefined),
        Math.max(250, leaseMs / 3),
      );
      let outcome: WriteOutcome;
      try {
        outcome = await this.attempt(row, client);
      } finally {
        clearInterval(renew);
      }
      last = await this.deps.store.finishWrite(key, this.owner, outcome);
      if (!last || last.state !== 'pending' || !('delivered' in outcome)) return last;
      // Asked for again meanwhile. A running operation's report waits for its reporter's next
      // (throttled) call or the next pass; its end, and a write of its own, go at once.
      if (row.operationId !== null && !outcome.final) return last;
    }
  }

  private async attempt(
    row: WriteRecord,
    given?: GitHubClient,
    paced = true,
  ): Promise<WriteOutcome> {
    const repo = splitRepo(row.repo);
    const octokit = given ?? (await this.deps.clientFor?.(repo)) ?? null;
    const what = describe(row);
    if (!octokit)
      return this.failed(row, what, new Error(`no installation of the app covers ${row.repo}`));
    const scope = limitScope(row.repo);
    for (let i = 0; ; i++) {
      if (paced) await this.turn(scope);
      try {
        // An earlier attempt that had no answer may have been written: look before creating.
        const sent = await this.writer.write(octokit, repo, row, row.attempts > 1 || i > 0);
        return { delivered: row.wanted, ...sent };
      } catch (error) {
        if (!isPassing(error)) {
          const reason = this.reason(error);
          this.deps.log?.('warn', `GitHub refused the ${what}; it stays as it was`, {
            write: row.key,
            error: reason,
          });
          return { refused: reason };
        }
        const until = limitedUntil(error);
        // Kept for every process: none writes to this account before GitHub's time is up.
        if (until && paced) await this.deps.store.holdWrites(scope, until);
        const limitMs = until ? until.getTime() - Date.now() : 0;
        if (i >= this.delays.length) return this.failed(row, what, error, limitMs);
        this.deps.log?.('info', `GitHub did not take the ${what}; trying again`, {
          write: row.key,
          error: this.reason(error),
          ...(until ? { until: until.toISOString() } : {}),
        });
        await new Promise((r) => setTimeout(r, Math.max(this.delays[i] ?? 0, limitMs)));
      }
    }
  }

  /** Waits for this process's turn to write for `scope`, and for any limit GitHub set to pass. */
  private async turn(scope: string): Promise<void> {
    const gap = this.deps.writeGapMs ?? 0;
    for (;;) {
      const wait = await this.deps.store.reserveWriteTurn(scope, gap);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const held = await this.deps.store.writesHeldUntil(scope);
      if (!held) return;
    }
  }

  private failed(row: WriteRecord, what: string, error: unknown, notBeforeMs = 0): WriteOutcome {
    const giveUp = row.attempts >= MAX_ATTEMPTS;
    const reason = this.reason(error);
    this.deps.log?.('warn', `GitHub did not take the ${what}; ${giveUp ? 'given up' : 'kept'}`, {
      write: row.key,
      error: reason,
      attempts: row.attempts,
    });
    const retryInMs = Math.max(notBeforeMs, (this.deps.backoffMs ?? backoffMs)(row.attempts));
    return { failed: reason, retryInMs, giveUp };
  }

  private reason(error: unknown): string {
    const status = httpStatusOf(error);
    const text = this.deps.redactor.redact(messageOf(error)).slice(0, 1_000);
    return status === undefined ? text : `${status}: ${text}`;
  }
}

/** An outbox over a runtime's store (the app's own when the server does not hand it one). */
export const outboxOver = (
  rt: Pick<OutboxDeps, 'store' | 'redactor' | 'urls'>,
  options: Omit<OutboxDeps, 'store' | 'redactor' | 'urls'> = {},
): Outbox => new Outbox({ store: rt.store, redactor: rt.redactor, urls: rt.urls, ...options });
