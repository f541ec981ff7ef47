// How each kind of GitHub write is made (the outbox decides when, how often and by whom): a
// standalone write as stored in github_writes.request, or an operation's report rendered from the
// operation as it is now. Whenever an earlier attempt's outcome is unknown (`uncertain`), what it
// may have made is looked up first — by the operation's marker, the write's marker, an external id
// or a deployment's payload — so nothing is made twice.
import {
  isFinished,
  environmentUrl,
  deploymentState,
  deploysHead,
  type Environment,
  type Operation,
  type Redactor,
  type UrlSettings,
} from '../domain/index.js';
import { SUMMARY_LIMIT, checkRunName, checkRunState } from './check-run.js';
import { COMMENT_LIMIT, fitBody } from './fit.js';
import { operationMarker, renderStatusComment } from './status-comment.js';
import type { Store } from '../store/store.js';
import type { WriteRecord } from '../store/writes.js';
import { defaultBranchHead, type GitHubClient, type RepoRef } from './types.js';
import {
  writeMarker,
  findComment,
  findIssue,
  findDeployment,
  findCheckRunBy,
} from './write-lookups.js';
import { STORED, HISTORY, reactionTarget } from './write-kinds.js';

export interface WriterDeps {
  store: Pick<Store, 'getOperation' | 'getEnvironment' | 'updateOperation' | 'listOperations'>;
  redactor: Redactor;
  urls: UrlSettings;
}

export class GitHubWriter {
  constructor(private readonly deps: WriterDeps) {}

  private fit(body: string, limit = COMMENT_LIMIT): string {
    return fitBody(this.deps.redactor.redact(body), limit);
  }

  /** An issue title as GitHub takes it: redacted, at most 256 characters. */
  private title(title: string): string {
    return this.deps.redactor.redact(title).slice(0, 256);
  }

  /** One write to GitHub; what GitHub named it, if it names one. */
  async write(
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
      // An earlier attempt may have created it before its sender died: ours carry the operation's
      // id.
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

/** A check run's conclusion and the time it was reached, when it has one. */
const completion = <C extends string>(
  conclusion: C | undefined,
): { conclusion: C; completed_at: string } | Record<string, never> =>
  conclusion ? { conclusion, completed_at: new Date().toISOString() } : {};
