// The outbox's machinery: each recorded write claimed (one process at a time, the claim renewed
// while it waits), paced per account (a turn in the database, and any limit GitHub set kept for
// every process), sent by the writer, and its outcome recorded: taken, refused, or kept for later
// with a backoff; an attempt whose answer was lost is looked up before anything is made again.
import { randomUUID } from 'node:crypto';
import { httpStatusOf, messageOf, type Redactor, type UrlSettings } from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { LogFn } from '../system/log.js';
import type { WriteOutcome, WriteRecord } from '../store/writes.js';
import { GitHubWriter } from './github-writes.js';
import { describe } from './write-kinds.js';
import { splitRepo, type GitHubClient, type RepoRef } from './types.js';

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
  /**
   * How long a write that failed `attempts` times waits for the next pass (default 1, 2, 4 … 60
   * min).
   */
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

export class Delivery {
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

  deliver(key: string, client?: GitHubClient): Promise<WriteRecord | null> {
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

  async attempt(row: WriteRecord, given?: GitHubClient, paced = true): Promise<WriteOutcome> {
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

  reason(error: unknown): string {
    const status = httpStatusOf(error);
    const text = this.deps.redactor.redact(messageOf(error)).slice(0, 1_000);
    return status === undefined ? text : `${status}: ${text}`;
  }
}
