// The reporter writes the status comment and the check run; what GitHub refuses or cannot take is
// logged with its cause (and retried when the cause passes), never swallowed. Each write is
// checked against GitHub's description as the real API would.
import { describe, expect, it } from 'vitest';
import { command, Redactor, envName, type Operation } from '../../src/domain/index.js';
import { commentReporter } from '../../src/github/reporter.js';
import { checkGitHubRequest } from '../support/github-contract.js';

const op = (partial: Partial<Operation> = {}): Operation => ({
  id: 7,
  envName: envName('dev'),
  kind: 'create',
  status: 'failed',
  trigger: {
    source: 'issue_comment',
    actor: 'octocat',
    url: 'https://github.com/o/r/issues/1#issuecomment-99',
    repo: 'o/r',
    issueNumber: 1,
    headSha: null,
  },
  steps: [],
  currentStep: null,
  failedStep: 'cluster',
  error: `k3d exited 1: ${'e'.repeat(150_000)} token=ghp_0123456789abcdefghijklmnopqrstuvwxyz`,
  fixCommand: command('retry', 'dev'),
  logOutput: null,
  cancelRequested: false,
  attempt: 1,
  leaseOwner: null,
  leaseExpiresAt: null,
  commentId: 123,
  checkRunId: null,
  startedAt: new Date(),
  completedAt: new Date(),
  updatedAt: new Date(),
  ...partial,
});

function github(answers: number[]) {
  const calls: { route: string; status: number; body: string }[] = [];
  const send = async (route: string, params: Record<string, unknown>, body: object) => {
    const [method, url] = route.split(' ');
    const refused = checkGitHubRequest(method!, url!, params, body);
    const status = refused ? 422 : (answers.shift() ?? 200);
    calls.push({ route, status, body: JSON.stringify(body) });
    if (status >= 300) throw Object.assign(new Error(refused ?? `HTTP ${status}`), { status });
    return { data: {} };
  };
  const octokit = {
    rest: {
      issues: {
        updateComment: ({ owner, repo, comment_id, body }: any) =>
          send(
            'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
            { owner, repo, comment_id },
            { body },
          ),
      },
      reactions: {
        createForIssueComment: ({ owner, repo, comment_id, content }: any) =>
          send(
            'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
            { owner, repo, comment_id },
            { content },
          ),
      },
    },
  };
  return { octokit, calls };
}

const rt = {
  redactor: new Redactor(),
  config: { BASE_DOMAIN: 'example.test' },
} as never;

describe('the reporter', () => {
  it('fits an over-long status comment to what GitHub takes, redacted', async () => {
    const { octokit, calls } = github([]);
    const logged: string[] = [];
    const r = commentReporter(octokit as never, rt, { log: (_f, m) => logged.push(m) });
    await r.onUpdate(op(), null);
    await r.flush();
    expect(calls.map((c) => `${c.route} ${c.status}`)).toEqual([
      'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} 200',
      'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions 200',
    ]);
    expect(calls[0]!.body).not.toContain('ghp_0123456789');
    expect(logged).toEqual([]);
  });

  it('retries a write GitHub could not take, and logs each failure with its cause', async () => {
    const { octokit, calls } = github([502, 200, 200]);
    const logged: string[] = [];
    const r = commentReporter(octokit as never, rt, {
      log: (f, m) => logged.push(`${m} [${f.write}]`),
      retryDelaysMs: [1],
    });
    await r.onUpdate(op({ error: 'short' }), null);
    await r.flush();
    expect(calls.map((c) => c.status)).toEqual([502, 200, 200]);
    expect(logged).toEqual([
      'GitHub did not take the status comment (502); trying again [status comment]',
    ]);
  });

  it('logs a refusal and does not retry it', async () => {
    const { octokit, calls } = github([404, 200]);
    const logged: string[] = [];
    const r = commentReporter(octokit as never, rt, {
      log: (_f, m) => logged.push(m),
      retryDelaysMs: [1],
    });
    await r.onUpdate(op({ error: 'short' }), null);
    await r.flush();
    expect(calls.map((c) => c.status)).toEqual([404, 200]);
    expect(logged).toEqual(['GitHub refused the status comment (404); it stays as it was']);
  });
});
