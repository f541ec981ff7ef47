// An operation's log, split by step for the console: each step's lines come before its summary.
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/domain/index.js';
import { stepLogs } from '../../src/web/environment-page.js';

const op = (logOutput: string, currentStep: Operation['currentStep'] = null) =>
  ({
    logOutput,
    currentStep,
    steps: ['record', 'branch', 'cluster', 'ready'].map((step) => ({ step })),
  }) as unknown as Operation;

describe("a step's log", () => {
  it('is what the step wrote up to the line that sums it up', () => {
    const logs = stepLogs(
      op('branch ensured\nbranch: created\npulling image\nnot a step: x\ncluster: created\n'),
    );
    expect(Object.fromEntries(logs)).toEqual({
      branch: ['branch ensured', 'branch: created'],
      cluster: ['pulling image', 'not a step: x', 'cluster: created'],
    });
  });

  it('gives the running step what was written after the last summary', () => {
    const logs = stepLogs(op('branch: created\nwaiting for the server\n', 'cluster'));
    expect(logs.get('cluster')).toEqual(['waiting for the server']);
    expect(stepLogs(op('', 'cluster')).size).toBe(0);
  });
});
