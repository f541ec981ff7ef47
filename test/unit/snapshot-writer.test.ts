// The CSV snapshot's rewrites are coalesced: a burst of changes costs a write at once and one more
// when the second has passed, never one per change; what is pending is written at close.
import { describe, expect, it } from 'vitest';
import { SnapshotWriter } from '../../src/store/csv-snapshot.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SnapshotWriter', () => {
  it('writes the first change at once and a burst after it once, a second later', async () => {
    let writes = 0;
    const writer = new SnapshotWriter(
      async () => {
        writes++;
        await tick(5);
      },
      () => undefined,
      200,
    );
    writer.request();
    await expect.poll(() => writes).toBe(1);
    const burst = Date.now();
    for (let i = 0; i < 100; i++) writer.request();
    expect(writes).toBe(1);
    await expect.poll(() => writes).toBe(2);
    // Not before the interval had passed since the first.
    expect(Date.now() - burst).toBeGreaterThanOrEqual(150);
    await tick(500);
    expect(writes).toBe(2);
  });

  it('told to wait after its start (a short command), writes its first change then or at flush', async () => {
    let writes = 0;
    const writer = new SnapshotWriter(
      async () => void writes++,
      () => undefined,
      1000,
      300,
    );
    writer.request();
    await tick(150);
    writer.request();
    expect(writes).toBe(0);
    await expect.poll(() => writes).toBe(1);
    // A command that ends before: one write, at its end.
    const short = new SnapshotWriter(
      async () => void writes++,
      () => undefined,
      1000,
      10_000,
    );
    for (let i = 0; i < 5; i++) short.request();
    await tick(50);
    expect(writes).toBe(1);
    await short.flush();
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
    await expect.poll(() => errors.length).toBe(1);
    fail = false;
    writer.request();
    await writer.flush();
    expect(writes).toBe(2);
    await writer.flush();
    expect(writes).toBe(2);
  });

  it('asks for the lines of the environments changed, or for everything once anything else did', async () => {
    const asked: (string[] | null)[] = [];
    const writer = new SnapshotWriter(
      async (names) => void asked.push(names && [...names].sort()),
      () => undefined,
      1000,
      10_000,
    );
    writer.request('beta');
    writer.request('alpha');
    writer.request('beta');
    await writer.flush();
    writer.request('gamma');
    writer.request();
    writer.request('delta');
    await writer.flush();
    writer.request('delta');
    await writer.flush();
    expect(asked).toEqual([['alpha', 'beta'], null, ['delta']]);
  });

  it('a write that failed has its names written with the next one', async () => {
    const asked: (string[] | null)[] = [];
    let fail = true;
    const writer = new SnapshotWriter(
      async (names) => {
        asked.push(names && [...names].sort());
        if (fail) throw new Error('database restarting');
      },
      () => undefined,
      1000,
      10_000,
    );
    writer.request('alpha');
    await writer.flush();
    fail = false;
    writer.request('beta');
    await writer.flush();
    expect(asked).toEqual([['alpha'], ['alpha', 'beta']]);
  });
});
