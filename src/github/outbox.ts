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
import { isFinished, deploymentState, deploysHead, type Operation } from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { WriteRecord } from '../store/writes.js';
import {
  HISTORY,
  reactionTarget,
  reportKey,
  sharedComment,
  type ReportKind,
  type Write,
} from './write-kinds.js';
import { type GitHubClient } from './types.js';
import { Delivery, type OutboxDeps } from './outbox-delivery.js';

export type { OutboxDeps };

export type { Write } from './write-kinds.js';

export interface Sent {
  delivered: boolean;
  /** The comment id, check run id or issue number GitHub gave it. */
  id: number | null;
  /** Why it was not delivered (GitHub's status and message, redacted). */
  error?: string;
}

export class Outbox {
  /** Claims, paces and sends the recorded writes. */
  private readonly delivery: Delivery;

  constructor(private readonly deps: OutboxDeps) {
    this.delivery = new Delivery(deps);
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
    const after = await this.delivery.deliver(key, client);
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
    const outcome = await this.delivery.attempt(row, client, false);
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
    await this.delivery.deliver(record.key, client);
  }

  /** Sends what is due (retries, and writes whose sender died). Returns how many were taken. */
  async pass(limit = 100): Promise<number> {
    let taken = 0;
    for (const row of await this.deps.store.dueWrites(limit)) {
      const after = await this.delivery.deliver(row.key);
      if (after?.state === 'delivered') taken++;
    }
    await this.deps.store.forgetDeliveredWrites(this.deps.keepWritesMs ?? 7 * 86_400_000);
    return taken;
  }
}

/** An outbox over a runtime's store (the app's own when the server does not hand it one). */
export const outboxOver = (
  rt: Pick<OutboxDeps, 'store' | 'redactor' | 'urls'>,
  options: Omit<OutboxDeps, 'store' | 'redactor' | 'urls'> = {},
): Outbox => new Outbox({ store: rt.store, redactor: rt.redactor, urls: rt.urls, ...options });
