// Outcomes said in a GitHub comment. An operation is told by its own status comment and check run
// (the reporter), so recording one answers nothing here; everything else is a reply quoting the
// line it answers.
import { isOperationOutcome, type Outcome, type OutcomeOf } from '../actions/index.js';
import { sayCancel, sayExtend } from '../actions/say.js';
import { helpText } from '../commands/usage.js';
import {
  describeChanges,
  environmentUrl,
  labelsText,
  type Operation,
  type UrlSettings,
} from '../domain/index.js';
import { renderActionsMarkdown, renderReportMarkdown } from './consistency-markdown.js';
import { renderStatusComment } from './status-comment.js';
import { inlineText } from './markdown.js';

export type CommentAnswer = { report: Operation } | { reply: string };

/** What a comment's line gets for the outcome of its command. */
export function commentAnswer(outcome: Outcome, quoted: string, urls: UrlSettings): CommentAnswer {
  const quote = (text: string) => ({ reply: `> ${quoted}\n\n${text}` });
  if (isOperationOutcome(outcome)) return { report: outcome.operation };
  switch (outcome.verb) {
    case 'cancel':
      return quote(sayCancel(outcome, 'comment'));
    case 'extend':
      return quote(sayExtend(outcome, 'comment'));
    case 'history':
      return quote(
        outcome.versions.length === 0
          ? `\`${outcome.name}\` has no recorded versions yet.`
          : [
              `Versions of \`${outcome.name}\`, newest first:`,
              '',
              '| version | when | by | via | what changed |',
              '|---|---|---|---|---|',
              ...outcome.versions.map(
                (v) =>
                  `| ${v.version} | ${v.at.toISOString()} | ${v.actor ?? '–'} | ${v.source} | ` +
                  `${inlineText(describeChanges(v.changes, v.version === 1), 300)} |`,
              ),
            ].join('\n'),
      );
    case 'help':
      return { reply: helpText(outcome.topic) };
    case 'list':
      return {
        reply:
          outcome.environments.length === 0
            ? outcome.labels
              ? `No environment carries ${inlineText(labelsText(outcome.labels), 200)}.`
              : 'No environments yet. Create one with `/env create <name>`.'
            : [
                '| name | provider | status | health | http | https | url |',
                '|---|---|---|---|---|---|---|',
                ...outcome.environments.map(
                  (e) =>
                    `| ${e.name} | ${e.provider} | ${e.status} | ` +
                    `${outcome.health[e.name]?.health ?? '–'} | ${e.httpPort} ` +
                    `| ${e.httpsPort} | ${environmentUrl(e, urls)} |`,
                ),
              ].join('\n'),
      };
    case 'status':
      return {
        reply:
          (outcome.operation
            ? renderStatusComment(outcome.operation, outcome.environment, urls, { marker: false })
            : `\`${outcome.environment?.name}\`: ${outcome.environment?.status}`) +
          (outcome.health
            ? `\n\n**Health:** ${outcome.health.health} since ${outcome.health.since} — ` +
              inlineText(outcome.health.reason, 300)
            : ''),
      };
    case 'check':
      return { reply: renderReportMarkdown(outcome.report, { command: '/env', maxRows: 30 }) };
    case 'sync':
      return { reply: syncReply(outcome) };
    case 'prune':
      return { reply: pruneReply(outcome) };
  }
}

function syncReply(outcome: OutcomeOf<'sync'>): string {
  const actions = renderActionsMarkdown(outcome.actions, 'sync', true);
  return outcome.operations.length
    ? `${actions}\n\nEach sync is an operation of its own: its status comment and ` +
        `check run follow it.`
    : `${actions}\n\n${renderReportMarkdown(outcome.report, { command: '/env', maxRows: 30 })}`;
}

function pruneReply(outcome: OutcomeOf<'prune'>): string {
  if (!outcome.confirmed) {
    const listed = renderActionsMarkdown(outcome.actions, 'prune', false);
    return outcome.preview
      ? `${listed}\n\nTo do this, comment ` +
          `\`/env prune --confirm ${outcome.preview.id}\` before ` +
          `${outcome.preview.expiresAt.toISOString()}. Only what is listed here is removed.`
      : listed;
  }
  if (outcome.actions.length === 0)
    return 'Nothing left to prune: what the preview listed is gone or has a database row again.';
  return (
    `${renderActionsMarkdown(outcome.actions, 'prune', true)}\n\nEach prune is an ` +
    `operation of its own: its status comment and check run follow it.`
  );
}
