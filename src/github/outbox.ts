// The one place that writes to GitHub. Every comment, reaction, check run and issue the bot writes
// is recorded first (github_writes), then sent: redacted, fitted to GitHub's size limits, retried
// with backoff when the failure is passing (no answer, 5xx, 429), recorded as refused when GitHub
// says no (4xx). A write not yet taken is tried again by the next pass (every minute, on the
// queue's schedule), also after a restart; what GitHub refused or the outbox gave up on stays on the
// dashboard. Nothing is swallowed.
//
// An operation's reports (its status comment, its check run, the 🚀/😕 on the comment that asked,
// and for a pull request's create or deploy the GitHub Deployment of its head)
// are rows keyed by the operation: whoever reports — the handler that recorded it, the worker
// running it, a pass after a restart — asks for the same row, and what is sent is rendered from
// the operation as it is when it is sent. So the reporter is bound to the operation from the
// moment it is recorded: a worker that takes it before the status comment exists creates the
// comment itself, and no update is ever written over by an older one.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  httpStatusOf,
  isFinished,
  messageOf,
  environmentUrl,
  deploymentState,
  deploysHead,
  type Environment,
  type Operation,
  type Redactor,
  type UrlSettings,
} from '../domain/index.js';
import { SUMMARY_LIMIT, checkRunName, checkRunState } from '../render/check-run.js';
import { COMMENT_LIMIT, fitBody } from '../render/fit.js';
import { operationMarker, renderStatusComment } from '../render/status-comment.js';
import type { Store } from '../store/store.js';
import type { WriteOutcome, WriteRecord } from '../store/writes.js';
import type { LogFn } from '../system/log.js';
import { defaultBranchHead, splitRepo, type GitHubClient, type RepoRef } from './types.js';

/**
 * What a standalone write (not an operation's report) holds, as stored in github_writes.request:
 * parsed when it is read back, so a row changed or left by another version is refused with what is
 * wrong instead of being sent half-formed.
 */
const STORED = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('comment'),
    issueNumber: z.number().int().positive(),
    body: z.string(),
  }),
  z.object({
    kind: z.literal('reaction'),
    commentId: z.number().int().positive(),
    content: z.enum(['eyes', 'rocket', 'confused']),
  }),
  z.object({
    kind: z.literal('issue'),
    title: z.string(),
    body: z.string(),
    labels: z.array(z.string()).optional(),
  }),
  z.object({
    kind: z.literal('issue-update'),
    issueNumber: z.number().int().positive(),
    title: z.string().optional(),
    body: z.string().optional(),
    state: z.enum(['open', 'closed']).optional(),
  }),
  z.object({
    kind: z.literal('check-run'),
    name: z.string(),
    headSha: z.string().regex(/^[0-9a-f]{40}$/),
    externalId: z.string(),
    status: z.enum(['queued', 'in_progress', 'completed']),
    conclusion: z.enum(['success', 'failure', 'neutral', 'cancelled']).optional(),
    title: z.string(),
    summary: z.string(),
    actions: z
      .array(z.object({ label: z.string(), description: z.string(), identifier: z.string() }))
      .optional(),
  }),
]);

/** A write that stands alone (not an operation's report), and the repository it goes to. */
export type Write = z.infer<typeof STORED> & { repo: RepoRef };

/** The rows of an operation's reports. */
type ReportKind = 'status-comment' | 'status-check-run' | 'status-reaction' | 'status-deployment';

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

  constructor(private readonly deps: OutboxDeps) {
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
      key: `${kind}:unrecorded`,
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
        const sent = await this.write(octokit, repo, row, row.attempts > 1 || i > 0);
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

  private fit(body: string, limit = COMMENT_LIMIT): string {
    return fitBody(this.deps.redactor.redact(body), limit);
  }

  /** An issue title as GitHub takes it: redacted, at most 256 characters. */
  private title(title: string): string {
    return this.deps.redactor.redact(title).slice(0, 256);
  }

  /** One write to GitHub; what GitHub named it, if it names one. */
  private async write(
    octokit: GitHubClient,
    repo: RepoRef,
    row: WriteRecord,
    uncertain: boolean,
  ): Promise<{ externalId?: number; final?: boolean }> {
    if (row.operationId !== null)
      return this.writeReport(octokit, repo, row.operationId, row, uncertain);
    const stored = STORED.safeParse({ ...row.request, kind: row.kind });
    if (!stored.success)
      throw Object.assign(
        new Error(
          `the stored ${row.kind} is not a write this version knows: ${stored.error.message}`,
        ),
        { status: 400 },
      );
    const w = stored.data;
    switch (w.kind) {
      case 'comment': {
        // Marked with its write, so an attempt that may have been taken is found, not repeated.
        const marker = writeMarker(row.key);
        const found = uncertain
          ? await findComment(octokit, { ...repo, issue: w.issueNumber }, marker, row)
          : null;
        if (found !== null) return { externalId: found };
        const { data } = await octokit.rest.issues.createComment({
          ...repo,
          issue_number: w.issueNumber,
          body: `${this.fit(w.body, COMMENT_LIMIT - marker.length - 2)}\n\n${marker}`,
        });
        return { externalId: data.id };
      }
      case 'reaction':
        await octokit.rest.reactions.createForIssueComment({
          ...repo,
          comment_id: w.commentId,
          content: w.content,
        });
        return {};
      case 'issue': {
        const marker = writeMarker(row.key);
        const found = uncertain ? await findIssue(octokit, repo, marker, row) : null;
        if (found !== null) return { externalId: found };
        const { data } = await octokit.rest.issues.create({
          ...repo,
          title: this.title(w.title),
          body: `${this.fit(w.body, COMMENT_LIMIT - marker.length - 2)}\n\n${marker}`,
          ...(w.labels ? { labels: w.labels } : {}),
        });
        return { externalId: data.number };
      }
      case 'issue-update':
        await octokit.rest.issues.update({
          ...repo,
          issue_number: w.issueNumber,
          ...(w.title !== undefined ? { title: this.title(w.title) } : {}),
          ...(w.body !== undefined ? { body: this.fit(w.body) } : {}),
          ...(w.state
            ? { state: w.state, ...(w.state === 'closed' ? { state_reason: 'completed' } : {}) }
            : {}),
        });
        return { externalId: w.issueNumber };
      case 'check-run': {
        // The caller makes the external id unique to this run.
        const found = uncertain
          ? await findCheckRunBy(octokit, repo, w.headSha, w.name, w.externalId)
          : null;
        if (found !== null) return { externalId: found };
        const { data } = await octokit.rest.checks.create({
          ...repo,
          name: w.name,
          head_sha: w.headSha,
          external_id: w.externalId,
          status: w.status,
          ...completion(w.conclusion),
          output: { title: w.title, summary: this.fit(w.summary, SUMMARY_LIMIT) },
          ...(w.actions ? { actions: w.actions } : {}),
        });
        return { externalId: data.id };
      }
    }
  }

  /**
   * An operation's GitHub Deployment: created once for its head, then one status per state it
   * reaches (statuses are a log: a state already written is not written again).
   */
  private async writeDeployment(
    octokit: GitHubClient,
    repo: RepoRef,
    op: Operation,
    env: Environment | null,
    uncertain: boolean,
  ): Promise<{ externalId?: number; final?: boolean }> {
    const { store, urls } = this.deps;
    const state = deploymentState(op, env);
    const final = isFinished(op.status);
    if (state === op.deploymentState)
      return op.deploymentId === null ? { final } : { final, externalId: op.deploymentId };
    const sha = op.trigger.headSha as string;
    let id = op.deploymentId ?? (uncertain ? await findDeployment(octokit, repo, op) : null);
    if (id === null) {
      if (state === 'inactive') return { final }; // never shown: nothing to retire
      const { data } = await octokit.rest.repos.createDeployment({
        ...repo,
        ref: sha,
        environment: op.envName,
        description: `kindler ${op.kind} of ${sha.slice(0, 7)} (operation #${op.id})`,
        transient_environment: true,
        production_environment: false,
        // A preview deploys the head as it is: no merge of the base, no wait for other checks
        // (kindler's own check run is still running).
        auto_merge: false,
        required_contexts: [],
        payload: { operation: op.id },
      });
      if (!('id' in data))
        throw Object.assign(new Error(`GitHub did not create the deployment: ${data.message}`), {
          status: 409,
        });
      id = data.id;
      await store.updateOperation(op.id, { deploymentId: id });
    }
    const url = state === 'success' && env ? environmentUrl(env, urls) : undefined;
    const description = this.redactText(
      state === 'success'
        ? `${sha.slice(0, 7)} is served`
        : state === 'inactive'
          ? ((op.status === 'cancelled' ? op.error : null) ??
            (env
              ? `replaced by ${env.deployed?.sha.slice(0, 7) ?? 'a newer head'}`
              : 'environment deleted'))
          : state === 'failure'
            ? `${op.failedStep ?? 'a step'} failed: ${op.error ?? 'unknown error'}`
            : `${op.kind} of ${sha.slice(0, 7)}`,
    );
    await octokit.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: id,
      state,
      description: description.length > 140 ? `${description.slice(0, 139)}…` : description,
      ...(url ? { environment_url: url } : {}),
      ...(urls.dashboard
        ? { log_url: `${urls.dashboard}/kindler/environments/${encodeURIComponent(op.envName)}` }
        : {}),
      auto_inactive: false,
    });
    await store.updateOperation(op.id, { deploymentState: state });
    return { final, externalId: id };
  }

  /** One line of text for GitHub, redacted. */
  private redactText(text: string): string {
    return this.deps.redactor.redact(text).split('\n')[0] ?? '';
  }

  /** An operation's report, rendered from the operation as it is now. */
  private async writeReport(
    octokit: GitHubClient,
    repo: RepoRef,
    operationId: number,
    row: WriteRecord,
    uncertain: boolean,
  ): Promise<{ externalId?: number; final?: boolean }> {
    const { store, urls } = this.deps;
    const op = await store.getOperation(operationId);
    if (!op) return {};
    const final = isFinished(op.status);
    if (row.kind === 'status-reaction') {
      const commentId = reactionTarget(op);
      if (commentId !== null)
        await octokit.rest.reactions.createForIssueComment({
          ...repo,
          comment_id: commentId,
          content: op.status === 'success' ? 'rocket' : 'confused',
        });
      return { final };
    }
    const env = await store.getEnvironment(op.envName);
    if (row.kind === 'status-deployment')
      return this.writeDeployment(octokit, repo, op, env, uncertain);
    const issue = op.trigger.issueNumber;
    if (row.kind === 'status-comment' && issue !== null) {
      const deployments = deploysHead(op)
        ? (await store.listOperations({ envName: op.envName, limit: HISTORY })).filter(deploysHead)
        : [];
      const body = this.fit(renderStatusComment(op, env, urls, { deployments }));
      const id =
        row.externalId ??
        (uncertain
          ? await findComment(octokit, { ...repo, issue }, operationMarker(op.id), row)
          : null);
      if (id !== null) {
        await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body });
        if (op.commentId !== id) await store.updateOperation(op.id, { commentId: id });
        return { final, externalId: id };
      }
      const { data } = await octokit.rest.issues.createComment({
        ...repo,
        issue_number: issue,
        body,
      });
      await store.updateOperation(op.id, { commentId: data.id });
      return { final, externalId: data.id };
    }
    if (row.kind !== 'status-check-run') return { final }; // a status comment with no conversation
    // The check run: on the pull request's head, or the default branch's head for an issue.
    const state = checkRunState(op, env, urls);
    const fields = {
      status: state.status,
      ...completion(state.conclusion),
      output: { title: state.output.title, summary: this.fit(state.output.summary, SUMMARY_LIMIT) },
      ...(state.actions ? { actions: state.actions } : {}),
    };
    let id = row.externalId;
    if (id === null) {
      const headSha = op.trigger.headSha ?? (await defaultBranchHead(octokit, repo));
      // An earlier attempt may have created it before its sender died: ours carry the operation's id.
      if (uncertain)
        id = await findCheckRunBy(octokit, repo, headSha, checkRunName(op), String(op.id));
      if (id === null) {
        const { data } = await octokit.rest.checks.create({
          ...repo,
          name: checkRunName(op),
          head_sha: headSha,
          external_id: String(op.id),
          ...fields,
        });
        await store.updateOperation(op.id, { checkRunId: data.id });
        return { final, externalId: data.id };
      }
    }
    await octokit.rest.checks.update({ ...repo, check_run_id: id, ...fields });
    if (op.checkRunId !== id) await store.updateOperation(op.id, { checkRunId: id });
    return { final, externalId: id };
  }
}

/** How many of an environment's latest operations a report looks through (its deployments). */
const HISTORY = 20;

/** A pull request's deploy writes into the status comment its create (or last deploy) posted. */
function sharedComment(op: Operation, history: Operation[]): number | null {
  if (op.kind !== 'deploy') return null;
  return (
    history.find(
      (o) =>
        o.id !== op.id &&
        o.commentId !== null &&
        o.trigger.repo === op.trigger.repo &&
        o.trigger.issueNumber === op.trigger.issueNumber,
    )?.commentId ?? null
  );
}

/** A check run's conclusion and the time it was reached, when it has one. */
const completion = <C extends string>(
  conclusion: C | undefined,
): { conclusion: C; completed_at: string } | Record<string, never> =>
  conclusion ? { conclusion, completed_at: new Date().toISOString() } : {};

/** An outbox over a runtime's store (the app's own when the server does not hand it one). */
export const outboxOver = (
  rt: Pick<OutboxDeps, 'store' | 'redactor' | 'urls'>,
  options: Omit<OutboxDeps, 'store' | 'redactor' | 'urls'> = {},
): Outbox => new Outbox({ store: rt.store, redactor: rt.redactor, urls: rt.urls, ...options });

const reportKey = (op: Operation, kind: ReportKind) =>
  kind === 'status-reaction' ? `op:${op.id}:reaction:${op.attempt}` : `op:${op.id}:${kind}`;

/** The comment that asked for the operation, when it was asked in a comment. */
function reactionTarget(op: Operation): number | null {
  const id = /#issuecomment-(\d+)$/.exec(op.trigger.url ?? '')?.[1];
  return id ? Number(id) : null;
}

function describe(row: WriteRecord): string {
  switch (row.kind) {
    case 'status-comment':
      return 'status comment';
    case 'status-check-run':
    case 'check-run':
      return 'check run';
    case 'status-reaction':
      return 'reaction';
    case 'status-deployment':
      return 'deployment';
    default:
      return row.kind.replace('-', ' ');
  }
}

/**
 * Where a lookup starts: when the write was recorded, less ten minutes (the database's clock and
 * GitHub's need not agree; the marker, not the time, says which is ours).
 */
const lookBackFrom = (row: WriteRecord): string =>
  new Date(row.createdAt.getTime() - 10 * 60_000).toISOString();

/** The hidden line that names a standalone write in what it wrote (found again by it). */
export const writeMarker = (key: string): string =>
  `<!-- kindler:write:${createHash('sha256').update(key).digest('hex').slice(0, 20)} -->`;

/**
 * A comment an earlier attempt may have posted before its answer was lost (it carries `marker`:
 * the operation's for a status comment, the write's for a reply): found among the comments since
 * the write was recorded, so it is not posted twice.
 */
async function findComment(
  octokit: GitHubClient,
  where: RepoRef & { issue: number },
  marker: string,
  row: WriteRecord,
): Promise<number | null> {
  const { data } = await octokit.rest.issues.listComments({
    owner: where.owner,
    repo: where.repo,
    issue_number: where.issue,
    since: lookBackFrom(row),
    per_page: 100,
  });
  return data.find((c) => c.body?.includes(marker))?.id ?? null;
}

/** The same for an issue (the drift issue): ours carry the write's marker in their body. */
async function findIssue(
  octokit: GitHubClient,
  repo: RepoRef,
  marker: string,
  row: WriteRecord,
): Promise<number | null> {
  const { data } = await octokit.rest.issues.listForRepo({
    ...repo,
    state: 'all',
    since: lookBackFrom(row),
    per_page: 100,
  });
  return data.find((i) => i.body?.includes(marker))?.number ?? null;
}

/** The same for a deployment: ours carry the operation's id in their payload. */
async function findDeployment(
  octokit: GitHubClient,
  repo: RepoRef,
  op: Operation,
): Promise<number | null> {
  const { data } = await octokit.rest.repos.listDeployments({
    ...repo,
    sha: op.trigger.headSha as string,
    environment: op.envName,
    per_page: 100,
  });
  const mine = (payload: unknown) =>
    typeof payload === 'object' &&
    payload !== null &&
    (payload as { operation?: unknown }).operation === op.id;
  return data.find((d) => mine(d.payload))?.id ?? null;
}

/** The same for a check run: ours carry an external id of their own (an operation's id). */
async function findCheckRunBy(
  octokit: GitHubClient,
  repo: RepoRef,
  headSha: string,
  name: string,
  externalId: string,
): Promise<number | null> {
  const { data } = await octokit.rest.checks.listForRef({
    ...repo,
    ref: headSha,
    check_name: name,
    filter: 'all',
    per_page: 100,
  });
  return data.check_runs.find((c) => c.external_id === externalId)?.id ?? null;
}
