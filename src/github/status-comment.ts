// The one status comment per operation, found again by its hidden marker and edited in place:
// a step checklist with durations, the error with its hint and fix on failure, URLs on success.
// Pure; the caller redacts. Over GitHub's limit, the middle of the log goes, never the end.
import {
  isFinished,
  environmentUrl,
  type UrlSettings,
  command,
  spell,
  ensures,
  deploymentState,
  stepsFor,
  stepDuration,
  type Environment,
  type Operation,
  type StepState,
} from '../domain/index.js';
import { hintFor, retryCommand } from '../lifecycle/hints.js';
import { COMMENT_LIMIT, clipMiddle } from './fit.js';
import { fencedBlock, inlineText } from './markdown.js';

export { COMMENT_LIMIT };
/**
 * A step's detail in the table, and the error under it: long enough to read, never the whole page.
 */
const CELL_LIMIT = 300;
const ERROR_LIMIT = 4_000;

export const operationMarker = (id: number): string => `<!-- kindler:operation:${id} -->`;
export const MARKER_PATTERN = /<!-- kindler:operation:(\d+) -->/;

const ICON: Record<StepState['status'], string> = {
  pending: '⬜',
  running: '⏳',
  done: '✅',
  skipped: '⏭️',
  failed: '❌',
  warning: '⚠️',
};
const HEADLINE: Record<Operation['status'], string> = {
  queued: '🕒 queued',
  running: '⏳ running',
  success: '🚀 succeeded',
  failed: '😕 failed',
  cancelled: '🛑 cancelled',
};

const cell = (text: string): string => inlineText(text, CELL_LIMIT);

export function renderStatusComment(
  op: Operation,
  env: Environment | null,
  settings: UrlSettings,
  options: {
    /** Off for a copy of the status (a `/env status` reply): only the status comment is marked. */
    marker?: boolean;
    /** A pull request's deployments, newest first: one row each. */
    deployments?: Operation[];
  } = {},
): string {
  const lines = [
    ...(options.marker === false ? [] : [operationMarker(op.id)]),
    `### \`${op.kind} ${op.envName}\` — ${HEADLINE[op.status]}`,
    '',
    `Operation #${op.id}` +
      (op.attempt > 1 ? ` (attempt ${op.attempt})` : '') +
      (op.trigger.actor ? `, asked by @${op.trigger.actor}` : '') +
      '.',
    '',
    '| | step | time | detail |',
    '|---|---|---|---|',
    ...stepsFor(op.kind).map((name) => {
      const s = op.steps.find((x) => x.step === name);
      const status = s?.status ?? 'pending';
      const detail = status === 'failed' ? (s?.error ?? 'failed') : (s?.detail ?? '');
      return `| ${ICON[status]} | ${name} | ${s ? stepDuration(s) : ''} | ${cell(detail)} |`;
    }),
  ];
  if (op.status === 'failed' && op.failedStep) {
    lines.push(
      '',
      `**${op.failedStep} failed:** ${inlineText(op.error ?? 'unknown error', ERROR_LIMIT)}`,
      '',
      `To resolve, ${hintFor(op.kind, op.failedStep, op.error)}, then comment:`,
      '',
      '```',
      spell(op.fixCommand ?? retryCommand(op.envName), 'comment'),
      '```',
    );
  }
  if (op.status === 'success' && ensures(op.kind) && env) {
    lines.push(
      '',
      `**Ready.** ${environmentUrl(env, settings)} — ports http ${env.httpPort}, ` +
        `https ${env.httpsPort}; context \`${env.provider}-${env.name}\`.`,
    );
  }
  if (op.status === 'success' && op.kind === 'delete')
    lines.push('', `**Deleted.** \`${op.envName}\` is gone.`);
  if (options.deployments?.length)
    lines.push('', ...deploymentRows(options.deployments, env, settings));
  if (!isFinished(op.status))
    lines.push('', `Stop it with \`${spell(command('cancel', op.envName), 'comment')}\`.`);
  if (op.logOutput)
    lines.push(
      '',
      '<details><summary>log</summary>',
      '',
      ...fencedBlock(op.logOutput.trimEnd()),
      '</details>',
    );
  return fit(lines.join('\n'));
}

/** Rows shown of a pull request's deployments (the newest). */
const DEPLOYMENT_ROWS = 10;

/**
 * Which head is deployed since when, then one row per deployment: commit, result, URL, duration.
 */
function deploymentRows(
  deployments: Operation[],
  env: Environment | null,
  settings: UrlSettings,
): string[] {
  const short = (sha: string | null) => (sha ? `\`${sha.slice(0, 7)}\`` : '');
  const lines: string[] = [];
  if (env?.deployed)
    lines.push(
      `**Deployed:** ${short(env.deployed.sha)} since ` +
        `${env.deployed.at.toISOString().replace(/\.\d+Z$/, 'Z')}.`,
      '',
    );
  lines.push('| commit | result | URL | duration |', '|---|---|---|---|');
  for (const op of deployments.slice(0, DEPLOYMENT_ROWS)) {
    const served = deploymentState(op, env) === 'success';
    const result =
      op.status === 'success'
        ? served
          ? '🚀 deployed'
          : 'inactive'
        : op.status === 'cancelled'
          ? `inactive: ${op.error ?? 'cancelled'}`
          : HEADLINE[op.status];
    const url = op.status === 'success' && served && env ? environmentUrl(env, settings) : '';
    const ms = op.completedAt ? op.completedAt.getTime() - op.startedAt.getTime() : null;
    const duration = ms === null ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
    lines.push(`| ${short(op.trigger.headSha)} | ${cell(result)} | ${url} | ${duration} |`);
  }
  if (deployments.length > DEPLOYMENT_ROWS)
    lines.push('', `… and ${deployments.length - DEPLOYMENT_ROWS} earlier deployments.`);
  return lines;
}

/** Keeps the comment under GitHub's limit by cutting the oldest part of the log. */
export function fit(body: string, limit = COMMENT_LIMIT): string {
  if (body.length <= limit) return body;
  const start = body.indexOf('<details><summary>log</summary>');
  const note = '\n… (earlier log lines cut) …\n';
  // The head runs to the end of the log's opening fence line, whatever its length.
  const fenceLine = start < 0 ? -1 : body.indexOf('\n', body.indexOf('\n\n', start) + 2);
  const head = fenceLine < 0 ? '' : body.slice(0, fenceLine);
  const keep = limit - head.length - note.length;
  // No log to cut, or a head that alone is too long: cut the middle of the whole body.
  if (!head || keep < 1000) return clipMiddle(body, limit);
  return `${head}${note}${body.slice(body.length - keep)}`;
}
