// The drift monitor's tracking issue in the config repository: opened when the scheduled check
// finds drift, kept current while it lasts, closed when it is gone; the reconcile loop's repairs
// report on it and it says when automatic repair gives up.
import { z } from 'zod';
import { checkConsistency, type CheckDeps } from '../consistency/check.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import { httpStatusOf } from '../domain/index.js';
import { stateKey } from '../store/state-key.js';
import { renderReportMarkdown } from './consistency-markdown.js';
import type { GitHubTarget } from './consistency.js';
import type { RepoRef } from './types.js';

const DRIFT_MARKER = '<!-- kindler:drift -->';
export const DRIFT_LABEL = 'kindler-drift';

/** The open drift issue of a repository. */
const driftKey = (repo: RepoRef) => stateKey(`drift:issue:${repo.owner}/${repo.repo}`, z.number());

export type DriftOutcome = 'opened' | 'reopened' | 'updated' | 'closed' | 'unchanged';

/**
 * Keeps one tracking issue current: opened (or reopened) when drift appears, its body updated
 * while it lasts, closed with a comment when it is gone.
 */
export async function driftMonitor(
  rt: CheckDeps,
  { outbox, octokit, repo }: GitHubTarget,
  given?: ConsistencyReport,
): Promise<{ outcome: DriftOutcome; report: ConsistencyReport; issue: number | null }> {
  const report = given ?? (await checkConsistency(rt));
  const known = await rt.store.getState(driftKey(repo));
  const issue = known
    ? await octokit.rest.issues.get({ ...repo, issue_number: known }).then(
        (r) => r.data,
        (error: unknown) => {
          const status = httpStatusOf(error);
          // Deleted or transferred: open a new one.
          if (status === 404 || status === 410) return null;
          throw error;
        },
      )
    : null;
  const body =
    `${DRIFT_MARKER}\nThe scheduled consistency check found drift between the ` +
    `database and the systems it drives. kindler-bot keeps this issue current and closes it when ` +
    `the drift is gone.\n\n${renderReportMarkdown(report, { command: '/env', maxRows: 100 })}`;
  const client = { client: octokit };
  if (report.consistent) {
    if (!issue || issue.state === 'closed') return { outcome: 'unchanged', report, issue: known };
    await outbox.send(
      {
        kind: 'comment',
        repo,
        issueNumber: issue.number,
        body: `No drift any more (checked ${report.checkedAt}). Closing.`,
      },
      client,
    );
    await outbox.send(
      { kind: 'issue-update', repo, issueNumber: issue.number, state: 'closed' },
      client,
    );
    return { outcome: 'closed', report, issue: issue.number };
  }
  const title = `kindler: drift — ${report.summary.replace(/^Inconsistent: /, '')}`;
  if (!issue) {
    // Keyed by the issue it replaces: a creation GitHub did not take is the same one next time.
    const { id } = await outbox.send(
      { kind: 'issue', repo, title, body, labels: [DRIFT_LABEL] },
      { ...client, key: `drift-issue:${repo.owner}/${repo.repo}:${known ?? 'first'}` },
    );
    if (id === null) throw new Error('GitHub did not take the drift issue; it is tried again');
    await rt.store.setState(driftKey(repo), id);
    return { outcome: 'opened', report, issue: id };
  }
  const reopen = issue.state === 'closed';
  await outbox.send(
    {
      kind: 'issue-update',
      repo,
      issueNumber: issue.number,
      title,
      body,
      ...(reopen ? { state: 'open' as const } : {}),
    },
    client,
  );
  return { outcome: reopen ? 'reopened' : 'updated', report, issue: issue.number };
}
