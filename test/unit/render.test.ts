// The status comment and the check run of an operation: the step checklist with icons and
// durations, the error with its fix on failure, the URL on success, and GitHub's size limits kept by
// cutting the oldest log lines — the end, where the error is, always stays.
import { fromMarkdown } from 'mdast-util-from-markdown';
import { describe, expect, it } from 'vitest';
import {
  environmentUrl,
  command,
  envName,
  type Operation,
  type StepState,
} from '../../src/domain/index.js';
import { checkRunState, SUMMARY_LIMIT } from '../../src/github/check-run.js';
import { renderActionsMarkdown } from '../../src/github/consistency-markdown.js';
import {
  COMMENT_LIMIT,
  MARKER_PATTERN,
  renderStatusComment,
} from '../../src/github/status-comment.js';
import { makeEnv } from '../support/env.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const step = (
  name: StepState['step'],
  status: StepState['status'],
  from: number,
  to: number,
  detail: string | null = null,
  error: string | null = null,
): StepState => ({ step: name, status, startedAt: at(from), completedAt: at(to), detail, error });

function makeOp(partial: Partial<Operation>): Operation {
  return {
    id: 42,
    envName: envName('dev'),
    kind: 'create',
    status: 'running',
    trigger: {
      source: 'issue_comment',
      actor: 'octocat',
      url: null,
      repo: 'o/r',
      issueNumber: 1,
      headSha: null,
    },
    steps: [],
    currentStep: null,
    failedStep: null,
    error: null,
    fixCommand: null,
    logOutput: null,
    cancelRequested: false,
    attempt: 1,
    leaseOwner: null,
    leaseExpiresAt: null,
    commentId: null,
    checkRunId: null,
    deploymentId: null,
    deploymentState: null,
    change: null,
    startedAt: at(0),
    completedAt: null,
    updatedAt: at(0),
    ...partial,
  };
}

const failed = (logOutput: string | null) =>
  makeOp({
    status: 'failed',
    failedStep: 'cluster',
    error: 'k3d cluster create dev exited 1: port 18090 is already allocated',
    fixCommand: command('retry', 'dev'),
    logOutput,
    steps: [
      step('record', 'done', 0, 0, 'row written'),
      step('branch', 'done', 0, 2, 'created'),
      step('cluster', 'failed', 2, 14, null, 'k3d exited 1'),
    ],
  });

describe('the status comment', () => {
  it('shows each step with its icon and duration, the error and the command that fixes it', () => {
    const body = renderStatusComment(failed(null), null, { baseDomain: 'local' });
    expect(MARKER_PATTERN.exec(body)?.[1]).toBe('42');
    expect(body).toContain('### `create dev` — 😕 failed');
    expect(body).toContain('| ✅ | branch | 2.0 s | created |');
    expect(body).toContain('| ❌ | cluster | 12.0 s | k3d exited 1 |');
    expect(body).toContain('| ⬜ | portainer |  |  |');
    expect(body).toContain(
      '**cluster failed:** k3d cluster create dev exited 1: port 18090 is already allocated',
    );
    expect(body).toMatch(/```\n\/env retry dev\n```/);
  });

  it('gives the URL and the ports on success: one URL form, the port only when it is not 80', () => {
    const ready = makeOp({ status: 'success', steps: [step('ready', 'done', 0, 0)] });
    const through = (gatewayPort: number | null) =>
      renderStatusComment(ready, makeEnv('dev'), { baseDomain: 'example.test', gatewayPort });
    expect(through(80)).toContain(
      '**Ready.** http://whoami.dev.example.test — ports http 18090, https 18443',
    );
    expect(through(8080)).toContain('**Ready.** http://whoami.dev.example.test:8080 — ports');
    // Without a gateway the environment answers on its own published port.
    expect(through(null)).toContain('**Ready.** http://whoami.dev.example.test:18090 — ports');
    const env = makeEnv('dev');
    const urls = { baseDomain: 'example.test', gatewayPort: 80 };
    expect(environmentUrl(env, urls)).toBe('http://whoami.dev.example.test');
    expect(environmentUrl({ ...env, haproxyRoute: false }, urls)).toBe(
      'http://whoami.dev.example.test:18090',
    );
  });

  it("stays under GitHub's limit by cutting the oldest log lines, keeping the checklist and the last lines", () => {
    const log = Array.from({ length: 20_000 }, (_, i) => `line ${i} of the k3d output`).join('\n');
    const body = renderStatusComment(failed(log), null, { baseDomain: 'local' });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain('| ❌ | cluster | 12.0 s | k3d exited 1 |');
    expect(body).toContain('… (earlier log lines cut) …');
    expect(body).not.toContain('line 0 of');
    expect(body).toMatch(/line 19999 of the k3d output\n```\n<\/details>$/);
  });
});

describe('the check run', () => {
  it('a 200,000-character step error still makes a comment GitHub takes, with its head and its end', () => {
    const error = `k3d exited 1: START ${'x'.repeat(200_000)} END`;
    const op = makeOp({
      status: 'failed',
      failedStep: 'cluster',
      error,
      logOutput: `cluster: ${error}\n`,
      steps: [step('cluster', 'failed', 2, 14, null, error)],
    });
    const body = renderStatusComment(op, makeEnv('dev'), { baseDomain: 'example.test' });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toMatch(MARKER_PATTERN);
    expect(body).toContain('**cluster failed:** k3d exited 1: START');
    expect(body).toContain('/env retry dev');
    expect(body.trimEnd().endsWith('</details>')).toBe(true);
    expect(body).toContain('END\n```');
  });

  it('concludes, offers Retry and Re-check on failure, and keeps the end of an over-long summary', () => {
    const state = checkRunState(failed(null), null, { baseDomain: 'local' });
    expect(state).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'create dev: failed at cluster' },
    });
    expect(state.actions?.map((a) => a.identifier)).toEqual(['retry', 'recheck']);
    const long = failed(null);
    long.error = `${'x'.repeat(70_000)} the cause at the end`;
    const summary = checkRunState(long, null, { baseDomain: 'local' }).output.summary;
    expect(summary.length).toBeLessThanOrEqual(SUMMARY_LIMIT);
    expect(summary).toContain('the cause at the end');
    expect(summary).toContain('then press **Retry** or comment `/env retry dev`.');
  });
});

describe('consistency replies on GitHub', () => {
  it('summarise thousands of actions with counts and point to the check run and the dashboard', () => {
    const actions = Array.from({ length: 3000 }, (_, i) => ({
      name: `env-${i}`,
      action: `create branch "env-${i}"`,
      outcome: i % 10 === 0 ? ('failed' as const) : ('done' as const),
      detail: i % 10 === 0 ? 'Git answered 503 '.repeat(100) : null,
    }));
    const text = renderActionsMarkdown(actions as never, 'sync', true);
    expect(text.startsWith('**Sync:** 2700 done, 300 failed.')).toBe(true);
    expect(text).toContain('…and 2970 more: the `kindler/consistency` check run and the dashboard');
    expect(text.length).toBeLessThan(20_000);
  });
});

describe('untrusted text in what the bot publishes', () => {
  it('a CLI stderr with a code fence, a link and a mention stays text in the status comment', () => {
    const evil = 'boom\n```\n</details>\n@everyone [click](http://evil.example/) <img src=x>';
    const op = makeOp({
      status: 'failed',
      failedStep: 'cluster',
      error: `k3d exited 1: ${evil}`,
      logOutput: `cluster: k3d exited 1: ${evil}\n`,
      steps: [step('cluster', 'failed', 2, 14, null, `k3d exited 1: ${evil}`)],
    });
    const body = renderStatusComment(op, makeEnv('dev'), { baseDomain: 'example.test' });
    const tree = fromMarkdown(body);
    const kinds = new Set<string>();
    const visit = (n: any) => {
      kinds.add(n.type);
      if (n.type === 'link') throw new Error(`a live link: ${n.url}`);
      n.children?.forEach(visit);
    };
    visit(tree);
    expect(kinds.has('image')).toBe(false);
    // The log's fence outlasts the backticks inside it: it closes where the bot closes it.
    const code = (tree.children as any[]).filter((n) => n.type === 'code');
    expect(code.at(-1).value).toContain('@everyone [click](http://evil.example/)');
    // Outside code, a mention never notifies (a zero-width space breaks it).
    const texts: string[] = [];
    const collect = (n: any) => {
      if (n.type === 'text') texts.push(n.value);
      if (n.type !== 'code' && n.type !== 'inlineCode') n.children?.forEach(collect);
    };
    collect(tree);
    expect(texts.join('\n')).not.toMatch(/(^|[^\u200b])@everyone/);
    expect(body).toContain('@\u200beveryone \\[click\\](http://evil.example/)');
  });
});

describe('fixes in a consistency comment', () => {
  it('are /env commands, retry and delete included (never `kindler …` in a comment)', async () => {
    const { renderReportMarkdown } = await import('../../src/github/consistency-markdown.js');
    const report = {
      summary: 'Inconsistent: 2 differences',
      checkedAt: '2026-01-01T00:00:00.000Z',
      consistent: false,
      systems: [],
      matrix: [],
      busy: [],
      discrepancies: [
        {
          kind: 'missing',
          system: 'k3d',
          name: 'dev',
          detail: 'no cluster',
          fix: command('retry', 'dev'),
        },
        {
          kind: 'missing',
          system: 'git',
          name: 'old',
          detail: 'no branch',
          fix: command('delete', 'old'),
        },
      ],
    } as never;
    const text = renderReportMarkdown(report, { command: '/env' });
    expect(text).toContain('`/env retry dev`');
    expect(text).toContain('`/env delete old`');
    expect(text).not.toContain('kindler retry');
  });
});
