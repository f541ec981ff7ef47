// Finding a write GitHub did but whose answer was lost: by the marker in its body, its external
// id or its payload, among what was made since shortly before the write was first tried.
import { createHash } from 'node:crypto';
import type { Operation } from '../domain/index.js';
import type { WriteRecord } from '../store/writes.js';
import type { GitHubClient, RepoRef } from './types.js';

/**
 * Where a lookup starts: when the write was recorded, less ten minutes (the database's clock and
 * GitHub's need not agree; the marker, not the time, says which is ours).
 */
export const lookBackFrom = (row: WriteRecord): string =>
  new Date(row.createdAt.getTime() - 10 * 60_000).toISOString();

/** The hidden line that names a standalone write in what it wrote (found again by it). */
export const writeMarker = (key: string): string =>
  `<!-- kindler:write:${createHash('sha256').update(key).digest('hex').slice(0, 20)} -->`;

/**
 * A comment an earlier attempt may have posted before its answer was lost (it carries `marker`:
 * the operation's for a status comment, the write's for a reply): found among the comments since
 * the write was recorded, so it is not posted twice.
 */
export async function findComment(
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
export async function findIssue(
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
export async function findDeployment(
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
export async function findCheckRunBy(
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
