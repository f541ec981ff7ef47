// /metrics asked many times a second takes the event loop's delay figures once a second: a scrape
// within the second shows the figures taken last, a scrape after it takes them anew.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/server/metrics.js';

const store = {
  operationCounts: async () => [],
  environmentCounts: async () => [],
  getState: async () => ({}),
  undeliveredWrites: async () => [],
} as never;

describe('the event loop delay on /metrics', () => {
  it('is taken once a second at most', async () => {
    let now = 0;
    const metrics = new Metrics({ store }, { webhookEvents: [], now: () => now });
    // kindler_nodejs_eventloop_lag_seconds: how long the loop took to come back after the figures
    // were last taken (prom-client measures it then, and shows it from then on).
    const lag = async () =>
      Number(
        /^kindler_nodejs_eventloop_lag_seconds (\S+)$/m.exec((await metrics.render()).body)?.[1],
      );
    const turn = () => new Promise((r) => setTimeout(r, 10));
    await lag();
    const until = performance.now() + 120; // the loop held right after the figures were taken
    while (performance.now() < until);
    await turn();
    now = 500;
    expect(await lag()).toBeGreaterThan(0.1);
    await turn();
    now = 600; // not taken again within the second: still the 120 ms
    expect(await lag()).toBeGreaterThan(0.1);
    now = 1600; // taken again, the loop free: a few milliseconds
    await lag();
    await turn();
    now = 1700;
    expect(await lag()).toBeLessThan(0.05);
  });
});
