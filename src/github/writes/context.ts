// What each kind of write is given: the client and repository, the stored row, whether an earlier
// attempt's outcome is unknown (then what it may have made is looked up first), and how text is
// made fit for GitHub (redacted, within its limits).
import type { Redactor, UrlSettings } from '../../domain/index.js';
import type { Store } from '../../store/store.js';
import type { WriteRecord } from '../../store/writes.js';
import { COMMENT_LIMIT, fitBody } from '../fit.js';
import type { GitHubClient, RepoRef } from '../types.js';

export interface WriterDeps {
  store: Pick<Store, 'getOperation' | 'getEnvironment' | 'updateOperation' | 'listOperations'>;
  redactor: Redactor;
  urls: UrlSettings;
}

/** What GitHub named the write (an id to keep), and whether the operation it reports has ended. */
export interface Made {
  externalId?: number;
  final?: boolean;
}

export interface WriteContext {
  octokit: GitHubClient;
  repo: RepoRef;
  row: WriteRecord;
  /** An earlier attempt may have been taken: look before making anything. */
  uncertain: boolean;
  deps: WriterDeps;
}

/** A body as GitHub takes it: redacted, fitted to `limit` (the middle goes, never the end). */
export const fit = (ctx: WriteContext, body: string, limit = COMMENT_LIMIT): string =>
  fitBody(ctx.deps.redactor.redact(body), limit);

/** An issue title as GitHub takes it: redacted, at most 256 characters. */
export const title = (ctx: WriteContext, text: string): string =>
  ctx.deps.redactor.redact(text).slice(0, 256);

/** One line of text for GitHub, redacted. */
export const oneLine = (ctx: WriteContext, text: string): string =>
  ctx.deps.redactor.redact(text).split('\n')[0] ?? '';

/** A check run's conclusion and the time it was reached, when it has one. */
export const completion = <C extends string>(
  conclusion: C | undefined,
): { conclusion: C; completed_at: string } | Record<string, never> =>
  conclusion ? { conclusion, completed_at: new Date().toISOString() } : {};
