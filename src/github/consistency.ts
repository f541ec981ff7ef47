// Consistency on GitHub: `/env check|sync|prune`, the `kindler/consistency` check run on the
// default branch head (buttons Re-check and Sync), and the drift monitor's tracking issue. Prune
// takes two comments: `/env prune` previews and remembers what it showed; `/env prune --confirm`
// (within an hour) removes only what was previewed and is still orphaned.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { stateKey } from '../store/state-key.js';
import { checkConsistency } from '../consistency/check.js';
import { sharedCheck } from '../consistency/shared-check.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import {
  previewPrune,
  requestPrunes,
  requestSyncs,
  type RepairDeps,
} from '../consistency/repair.js';
import { httpStatusOf, messageOf, type Operation, type Trigger } from '../domain/index.js';
import { renderActionsMarkdown, renderReportMarkdown } from '../render/consistency.js';
import { RECHECK_ACTION } from '../render/check-run.js';
import type { Outbox } from './outbox.js';
import { defaultBranchHead, splitRepo, type GitHubClient, type RepoRef } from './types.js';

/** Where a consistency answer goes: the repository, through the outbox with this client. */
export interface GitHubTarget {
  outbox: Outbox;
  octokit: GitHubClient;
  repo: RepoRef;
}

export const CONSISTENCY_CHECK = 'kindler/consistency';
export { RECHECK_ACTION };
export const SYNC_ACTION = 'sync';
const PREVIEW_TTL_MS = 3_600_000;
const DRIFT_MARKER = '<!-- kindler:drift -->';
export const DRIFT_LABEL = 'kindler-drift';

/** A prune preview shown in a repository: what `/env prune --confirm` there may remove. */
const PrunePreview = z.object({ names: z.array(z.string()), at: z.string(), by: z.string() });
const previewKey = (repo: RepoRef) =>
  stateKey(`prune:preview:${repo.owner}/${repo.repo}`, PrunePreview.nullable());
/** The open drift issue of a repository. */
const driftKey = (repo: RepoRef) => stateKey(`drift:issue:${repo.owner}/${repo.repo}`, z.number());

const published = new WeakSet<ConsistencyReport>();

/** The shared report, its check run published once. */
export async function checkAndPublish(
  rt: RepairDeps,
  gh: GitHubTarget,
): Promise<ConsistencyReport> {
  const report = await sharedCheck(rt).get();
  if (!published.has(report)) {
    published.add(report);
    await publishCheckRun(gh, report);
  }
  return report;
}

export async function checkCommand(rt: RepairDeps, gh: GitHubTarget): Promise<string> {
  const report = await checkAndPublish(rt, gh);
  return renderReportMarkdown(report, { command: '/env', maxRows: 30 });
}

/** Operations one `/env sync`, `/env prune --confirm` or Sync button may queue: what one request can cause is bounded. */
export const MAX_REPAIRS_PER_REQUEST = 10;

/**
 * `/env sync` and the Sync button: a sync operation per environment that needs one (at most
 * MAX_REPAIRS_PER_REQUEST), each announced — status comment and check run — and run by the workers
 * like any operation. Returns the reply.
 */
export async function syncCommand(
  rt: RepairDeps,
  trigger: Trigger,
  announce: (op: Operation) => Promise<void>,
): Promise<string> {
  const plan = await requestSyncs(rt, { trigger, limit: MAX_REPAIRS_PER_REQUEST });
  for (const op of plan.operations) await announce(op);
  const actions = renderActionsMarkdown(plan.actions, 'sync', true);
  return plan.operations.length
    ? `${actions}\n\nEach sync is an operation of its own: its status comment and check run follow it.`
    : `${actions}\n\n${renderReportMarkdown(plan.report, { command: '/env', maxRows: 30 })}`;
}

/**
 * `/env prune` previews and remembers what it showed; `/env prune --confirm` (within the hour)
 * records a prune operation per previewed name that is still orphaned (at most
 * MAX_REPAIRS_PER_REQUEST), each announced and run by the workers. Returns the reply.
 */
export async function pruneCommand(
  rt: RepairDeps,
  repo: RepoRef,
  confirm: boolean,
  trigger: Trigger,
  announce: (op: Operation) => Promise<void>,
  now = new Date(),
): Promise<string> {
  if (!confirm) {
    const plan = await previewPrune(rt, { now });
    const names = [...new Set(plan.actions.map((a) => a.name))];
    const by = trigger.actor ?? 'unknown';
    await rt.store.setState(
      previewKey(repo),
      names.length ? { names, at: now.toISOString(), by } : null,
    );
    return names.length
      ? `${renderActionsMarkdown(plan.actions, 'prune', false)}\n\nTo do this, comment \`/env prune --confirm\` within the hour. Only what is listed here is removed.`
      : renderActionsMarkdown([], 'prune', false);
  }
  const preview = await rt.store.getState(previewKey(repo));
  if (!preview || now.getTime() - new Date(preview.at).getTime() > PREVIEW_TTL_MS) {
    return 'Nothing to confirm: prune removes only what a preview showed in the last hour. Comment `/env prune` first and read the list.';
  }
  await rt.store.setState(previewKey(repo), null);
  // Only what was previewed and is still orphaned now (one check decides both).
  const plan = await requestPrunes(rt, {
    names: preview.names,
    stillOrphaned: true,
    trigger,
    limit: MAX_REPAIRS_PER_REQUEST,
  });
  if (plan.actions.length === 0)
    return 'Nothing left to prune: what the preview listed is gone or has a database row again.';
  for (const op of plan.operations) await announce(op);
  return `${renderActionsMarkdown(plan.actions, 'prune', true)}\n\nEach prune is an operation of its own: its status comment and check run follow it.`;
}

/** What the consistency check runs' external ids start with (then `:<run>`). */
export const CONSISTENCY_EXTERNAL_ID = 'consistency';

/** A completed `kindler/consistency` check run on the default branch's head. */
export async function publishCheckRun(
  { outbox, octokit, repo }: GitHubTarget,
  report: ConsistencyReport,
): Promise<number | null> {
  const head = await defaultBranchHead(octokit, repo);
  const sent = await outbox.send(
    {
      kind: 'check-run',
      repo,
      name: CONSISTENCY_CHECK,
      headSha: head,
      status: 'completed',
      conclusion: report.consistent ? 'success' : 'failure',
      // Unique to this run, so a creation whose answer was lost is found rather than repeated.
      externalId: `${CONSISTENCY_EXTERNAL_ID}:${randomUUID().slice(0, 8)}`,
      title: report.summary,
      summary: renderReportMarkdown(report, { maxRows: 200 }),
      actions: [
        {
          label: 'Re-check',
          description: 'Compare every system again',
          identifier: RECHECK_ACTION,
        },
        { label: 'Sync', description: 'Recreate what the DB implies', identifier: SYNC_ACTION },
      ],
    },
    { client: octokit },
  );
  return sent.id;
}

export type DriftOutcome = 'opened' | 'reopened' | 'updated' | 'closed' | 'unchanged';

/**
 * Keeps one tracking issue current: opened (or reopened) when drift appears, its body updated
 * while it lasts, closed with a comment when it is gone.
 */
export async function driftMonitor(
  rt: RepairDeps,
  { outbox, octokit, repo }: GitHubTarget,
): Promise<{ outcome: DriftOutcome; report: ConsistencyReport; issue: number | null }> {
  const report = await checkConsistency(rt);
  const known = await rt.store.getState(driftKey(repo));
  const issue = known
    ? await octokit.rest.issues.get({ ...repo, issue_number: known }).then(
        (r) => r.data,
        (error: unknown) => {
          const status = httpStatusOf(error);
          if (status === 404 || status === 410) return null; // deleted or transferred: open a new one
          throw error;
        },
      )
    : null;
  const body = `${DRIFT_MARKER}\nThe scheduled consistency check found drift between the database and the systems it drives. kindler-bot keeps this issue current and closes it when the drift is gone.\n\n${renderReportMarkdown(report, { command: '/env', maxRows: 100 })}`;
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

/**
 * A consistency request from GitHub (`/env check|sync|prune`, the Re-check and Sync buttons): run
 * from the durable queue after the webhook is answered, so a restart does not lose it. `id` keys
 * its reply (a request run again after a crash answers once); `quoted` is the comment line it
 * answers, null for a button (the check run alone says what happened).
 */
export interface ConsistencyRequest {
  id: string;
  verb: 'check' | 'sync' | 'prune';
  confirm: boolean;
  trigger: Trigger & { repo: string };
  quoted: string | null;
}

/** Runs a consistency request and answers it. Failures are answered too, never thrown away. */
export async function answerConsistency(
  rt: RepairDeps,
  outbox: Outbox,
  octokit: GitHubClient,
  request: ConsistencyRequest,
): Promise<void> {
  const { trigger, verb, quoted } = request;
  const repo = splitRepo(trigger.repo);
  const gh: GitHubTarget = { outbox, octokit, repo };
  const report = (op: Operation) => outbox.report(op, octokit);
  let body: string;
  try {
    body =
      verb === 'sync'
        ? await syncCommand(rt, trigger, report)
        : verb === 'prune'
          ? await pruneCommand(rt, repo, request.confirm, trigger, report)
          : quoted === null
            ? (await checkAndPublish(rt, gh)).summary
            : await checkCommand(rt, gh);
  } catch (error) {
    body = `\`/env ${verb}\` failed: ${rt.redactor.redact(messageOf(error))}`;
  }
  if (quoted !== null && trigger.issueNumber !== null)
    await outbox.send(
      { kind: 'comment', repo, issueNumber: trigger.issueNumber, body: `> ${quoted}\n\n${body}` },
      { key: `reply:consistency:${request.id}`, client: octokit },
    );
}
