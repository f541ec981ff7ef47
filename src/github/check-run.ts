// The check run of an operation: name, status/conclusion, a summary table, and the buttons.
// Pure. GitHub allows 65535 characters of summary: the end is kept.
import {
  environmentUrl,
  isFinished,
  type UrlSettings,
  spell,
  ensures,
  stepsFor,
  type Environment,
  type Operation,
  stepDuration,
} from '../domain/index.js';
import { hintFor, retryCommand } from '../lifecycle/hints.js';
import { inlineText } from './markdown.js';

export const SUMMARY_LIMIT = 65_535;
export const RETRY_ACTION = 'retry';
export const RECHECK_ACTION = 'recheck';
const RECHECK = {
  label: 'Re-check',
  description: 'Compare every system again',
  identifier: RECHECK_ACTION,
};

export const checkRunName = (op: Pick<Operation, 'kind' | 'envName'>): string =>
  `kindler/${op.kind} ${op.envName}`;

export interface CheckRunState {
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'cancelled';
  output: { title: string; summary: string };
  actions?: { label: string; description: string; identifier: string }[];
}

export function checkRunState(
  op: Operation,
  env: Environment | null,
  settings: UrlSettings,
): CheckRunState {
  const rows = stepsFor(op.kind).map((name) => {
    const s = op.steps.find((x) => x.step === name);
    const detail = (s?.status === 'failed' ? s.error : s?.detail) ?? '';
    return (
      `| ${name} | ${s?.status ?? 'pending'} | ` +
      `${s ? stepDuration(s) : ''} | ${inlineText(detail, 300)} |`
    );
  });
  const lines = ['| step | status | time | detail |', '|---|---|---|---|', ...rows];
  if (op.status === 'failed' && op.failedStep)
    lines.push(
      '',
      `**${op.failedStep} failed:** ${inlineText(op.error ?? '', 4_000)}`,
      '',
      `To resolve, ${hintFor(op.kind, op.failedStep, op.error)}, then press **Retry** ` +
        `or comment \`${spell(op.fixCommand ?? retryCommand(op.envName), 'comment')}\`.`,
    );
  if (op.status === 'success' && ensures(op.kind) && env)
    lines.push('', `Ready: ${environmentUrl(env, settings)}`);
  let summary = lines.join('\n');
  if (summary.length > SUMMARY_LIMIT)
    summary = `…\n${summary.slice(summary.length - SUMMARY_LIMIT + 2)}`;
  const at = op.failedStep ? ` at ${op.failedStep}` : '';
  const title = `${op.kind} ${op.envName}: ${op.status}${at}`;
  if (!isFinished(op.status))
    return {
      status: op.status === 'running' ? 'in_progress' : 'queued',
      output: { title, summary },
    };
  return {
    status: 'completed',
    conclusion:
      op.status === 'success' ? 'success' : op.status === 'failed' ? 'failure' : 'cancelled',
    output: { title, summary },
    actions:
      op.status === 'success'
        ? [RECHECK]
        : [
            { label: 'Retry', description: 'Resume at the failed step', identifier: RETRY_ACTION },
            RECHECK,
          ],
  };
}
