// A consistency check requested many times at once runs once; a fresh report is shared; a failed
// one is not kept.
import { describe, expect, it } from 'vitest';
import type { ConsistencyReport } from '../../src/consistency/compare.js';
import { SharedCheck } from '../../src/consistency/shared-check.js';

const report = (n: number) => ({ summary: `report ${n}` }) as unknown as ConsistencyReport;

describe('the shared consistency check', () => {
  it('15 requests at once run one check', async () => {
    let n = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const shared = new SharedCheck(async () => {
      n++;
      await gate;
      return report(n);
    }, 30_000);
    const all = Array.from({ length: 15 }, () => shared.get());
    release();
    const reports = await Promise.all(all);
    expect(n).toBe(1);
    expect(new Set(reports).size).toBe(1);
  });

  it('shares a fresh report, checks again once it is stale, and never keeps a failure', async () => {
    let clock = 0;
    let n = 0;
    let fail = false;
    const shared = new SharedCheck(
      async () => {
        n++;
        if (fail) throw new Error('Portainer down');
        return report(n);
      },
      30_000,
      () => clock,
    );
    expect((await shared.get()).summary).toBe('report 1');
    clock = 29_999;
    expect((await shared.get()).summary).toBe('report 1');
    clock = 30_000;
    fail = true;
    await expect(shared.get()).rejects.toThrow('Portainer down');
    fail = false;
    expect((await shared.get()).summary).toBe('report 3');
    expect(shared.runs).toBe(3);
  });
});
