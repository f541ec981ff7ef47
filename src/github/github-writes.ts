// How each kind of GitHub write is made (the outbox decides when, how often and by whom), one file
// per kind under writes/: a standalone write as stored in github_writes.request (a comment, a
// reaction, an issue or its update, a check run), or an operation's report rendered from the
// operation as it is now (its status comment, check run, reaction, deployment). Whenever an earlier
// attempt's outcome is unknown (`uncertain`), what it may have made is looked up first — by the
// operation's marker, the write's marker, an external id or a deployment's payload — so nothing is
// made twice.
import type { Operation } from '../domain/index.js';
import type { WriteRecord } from '../store/writes.js';
import type { GitHubClient, RepoRef } from './types.js';
import { STORED, type ReportKind, type Write } from './write-kinds.js';
import { writeCheckRun, writeStatusCheckRun } from './writes/check-run.js';
import { writeComment, writeStatusComment } from './writes/comment.js';
import type { Made, WriteContext, WriterDeps } from './writes/context.js';
import { writeDeployment } from './writes/deployment.js';
import { writeIssue, writeIssueUpdate } from './writes/issue.js';
import { writeReaction, writeStatusReaction } from './writes/reaction.js';

export type { WriterDeps };

type Standalone = {
  [K in Write['kind']]: (ctx: WriteContext, w: Extract<Write, { kind: K }>) => Promise<Made>;
};

const STANDALONE: Standalone = {
  comment: writeComment,
  reaction: writeReaction,
  issue: writeIssue,
  'issue-update': writeIssueUpdate,
  'check-run': writeCheckRun,
};

const REPORTS: Record<ReportKind, (ctx: WriteContext, op: Operation) => Promise<Made>> = {
  'status-comment': writeStatusComment,
  'status-check-run': writeStatusCheckRun,
  'status-reaction': writeStatusReaction,
  'status-deployment': writeDeployment,
};

export class GitHubWriter {
  constructor(private readonly deps: WriterDeps) {}

  /** One write to GitHub; what GitHub named it, if it names one. */
  async write(
    octokit: GitHubClient,
    repo: RepoRef,
    row: WriteRecord,
    uncertain: boolean,
  ): Promise<Made> {
    const ctx: WriteContext = { octokit, repo, row, uncertain, deps: this.deps };
    if (row.operationId !== null) {
      const op = await this.deps.store.getOperation(row.operationId);
      const report = REPORTS[row.kind as ReportKind];
      return op && report ? report(ctx, op) : {};
    }
    const stored = STORED.safeParse({ ...row.request, kind: row.kind });
    if (!stored.success)
      throw Object.assign(
        new Error(
          `the stored ${row.kind} is not a write this version knows: ${stored.error.message}`,
        ),
        { status: 400 },
      );
    const w = { ...stored.data, repo };
    return (STANDALONE[w.kind] as (ctx: WriteContext, w: Write) => Promise<Made>)(ctx, w);
  }
}
