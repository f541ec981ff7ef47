// An issue (the drift monitor's), marked with its write so one made by an attempt whose answer was
// lost is found; and an update of one (title, body, open or closed).
import { COMMENT_LIMIT } from '../fit.js';
import type { Write } from '../write-kinds.js';
import { findIssue, writeMarker } from '../write-lookups.js';
import { fit, title, type Made, type WriteContext } from './context.js';

export async function writeIssue(
  ctx: WriteContext,
  w: Extract<Write, { kind: 'issue' }>,
): Promise<Made> {
  const { octokit, repo, row } = ctx;
  const marker = writeMarker(row.key);
  const found = ctx.uncertain ? await findIssue(octokit, repo, marker, row) : null;
  if (found !== null) return { externalId: found };
  const { data } = await octokit.rest.issues.create({
    ...repo,
    title: title(ctx, w.title),
    body: `${fit(ctx, w.body, COMMENT_LIMIT - marker.length - 2)}\n\n${marker}`,
    ...(w.labels ? { labels: w.labels } : {}),
  });
  return { externalId: data.number };
}

export async function writeIssueUpdate(
  ctx: WriteContext,
  w: Extract<Write, { kind: 'issue-update' }>,
): Promise<Made> {
  await ctx.octokit.rest.issues.update({
    ...ctx.repo,
    issue_number: w.issueNumber,
    ...(w.title !== undefined ? { title: title(ctx, w.title) } : {}),
    ...(w.body !== undefined ? { body: fit(ctx, w.body) } : {}),
    ...(w.state
      ? { state: w.state, ...(w.state === 'closed' ? { state_reason: 'completed' } : {}) }
      : {}),
  });
  return { externalId: w.issueNumber };
}
