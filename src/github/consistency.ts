// Consistency on GitHub: `/env check|sync|prune` answered from the durable queue, the
// `kindler/consistency` check run on the default branch head (buttons Re-check and Sync), and the
// drift monitor's tracking issue (drift.ts). The verbs themselves are the actions' (src/actions/).
import { randomUUID } from 'node:crypto';
import { contextOf, perform, type ActionRuntime, type OutcomeOf } from '../actions/index.js';
import { isBatch, type Command, type CommandOf } from '../commands/verbs.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import {
  Failure,
  messageOf,
  spell,
  type Operation,
  type Trigger,
  type UrlSettings,
} from '../domain/index.js';
import { renderReportMarkdown } from './consistency-markdown.js';
import { commentAnswer } from './answers.js';
import { RECHECK_ACTION } from './check-run.js';
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

const published = new WeakSet<ConsistencyReport>();

/** The report's check run, published once however many requests shared the report. */
async function publishOnce(gh: GitHubTarget, report: ConsistencyReport): Promise<void> {
  if (published.has(report)) return;
  published.add(report);
  await publishCheckRun(gh, report);
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

/** The verbs answered from the consistency queue rather than in the comment's own reply. */
export type ConsistencyCommand = CommandOf<'check' | 'sync' | 'prune'>;

export const isConsistency = (command: Command): command is ConsistencyCommand =>
  !isBatch(command) &&
  (command.verb === 'check' || command.verb === 'sync' || command.verb === 'prune');

/**
 * A consistency request from GitHub (`/env check|sync|prune`, the Re-check and Sync buttons): run
 * from the durable queue after the webhook is answered, so a restart does not lose it. `id` keys
 * its reply (a request run again after a crash answers once); `quoted` is the comment line it
 * answers, null for a button (the check run alone says what happened).
 */
export interface ConsistencyRequest {
  id: string;
  command: ConsistencyCommand;
  trigger: Trigger & { repo: string };
  quoted: string | null;
}

/** Runs a consistency request and answers it. Failures are answered too, never thrown away. */
export async function answerConsistency(
  rt: ActionRuntime & { urls: UrlSettings },
  outbox: Outbox,
  octokit: GitHubClient,
  request: ConsistencyRequest,
): Promise<void> {
  const { trigger, quoted } = request;
  // A request queued by an older version carried only its verb (a prune then only previews).
  const command: ConsistencyCommand =
    request.command ?? legacyCommand(request as unknown as { verb: 'check' | 'sync' | 'prune' });
  const repo = splitRepo(trigger.repo);
  const gh: GitHubTarget = { outbox, octokit, repo };
  let body: string;
  try {
    const outcome = await perform(command, contextOf(rt, trigger));
    if (outcome.verb === 'check') await publishOnce(gh, outcome.report);
    for (const op of announced(outcome)) await outbox.report(op, octokit);
    const answer = commentAnswer(outcome, quoted ?? '', rt.urls);
    body =
      outcome.verb === 'check' && quoted === null
        ? outcome.report.summary
        : 'reply' in answer
          ? answer.reply
          : '';
  } catch (error) {
    const text = rt.redactor.redact(messageOf(error));
    body =
      error instanceof Failure
        ? `${text}${error.fix ? `\n\nNext: \`${spell(error.fix, 'comment')}\`` : ''}`
        : `\`/env ${command.verb}\` failed: ${text}`;
  }
  if (quoted !== null && trigger.issueNumber !== null)
    await outbox.send(
      { kind: 'comment', repo, issueNumber: trigger.issueNumber, body: `> ${quoted}\n\n${body}` },
      { key: `reply:consistency:${request.id}`, client: octokit },
    );
}

/** The operations a repair recorded: each gets its status comment and check run here. */
function announced(outcome: OutcomeOf<'check' | 'sync' | 'prune'>): Operation[] {
  return outcome.verb === 'sync' || (outcome.verb === 'prune' && outcome.confirmed)
    ? outcome.operations
    : [];
}

function legacyCommand(old: { verb: 'check' | 'sync' | 'prune' }): ConsistencyCommand {
  return old.verb === 'prune' ? { verb: 'prune', confirm: null } : { verb: old.verb };
}
