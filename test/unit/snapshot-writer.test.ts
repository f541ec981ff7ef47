// The CSV snapshot's rewrites are coalesced: a change is written when its second has passed, a
// burst of changes once per second, never one per change; what is pending is written at close.
import { describe, expect, it } from 'vitest';
import { SnapshotWriter } from '../../src/store/csv-snapshot.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SnapshotWriter', () => {
  it('writes a change when its second has passed, and a burst within it once', async () => {
    let writes = 0;
    const writer = new SnapshotWriter(
      async () => {
        writes++;
        await tick(5);
      },
      () => undefined,
      200,
    );
    const first = Date.now();
    writer.request();
    for (let i = 0; i < 100; i++) writer.request();
    expect(writes).toBe(0);
    await expect.poll(() => writes).toBe(1);
    expect(Date.now() - first).toBeGreaterThanOrEqual(150);
    // Changes after it: one more write, an interval later.
    const burst = Date.now();
    for (let i = 0; i < 100; i++) writer.request();
    await expect.poll(() => writes).toBe(2);
    expect(Date.now() - burst).toBeGreaterThanOrEqual(150);
    await tick(500);
    expect(writes).toBe(2);
  });

  it('flush writes what is pending now; a failed write is reported, not thrown', async () => {
    const errors: unknown[] = [];
    let fail = true;
    let writes = 0;
    const writer = new SnapshotWriter(
      async () => {
        writes++;
        if (fail) throw new Error('disk full');
      },
      (e) => errors.push(e),
      10_000,
    );
    writer.request();
    await writer.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    writer.request();
    await writer.flush();
    expect(writes).toBe(2);
    await writer.flush();
    expect(writes).toBe(2);
  });
});
