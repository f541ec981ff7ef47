// The derived CSV snapshot, rewritten after changes (at most once a second, off the path of the
// change that asked: SnapshotWriter), atomically; read back when the database is down.
import fs from 'node:fs/promises';
import path from 'node:path';
import { formatEnvironmentsCsv, parseEnvironmentsCsv } from './csv.js';
import type { EnvironmentRecord, Store } from './store.js';

export async function writeSnapshot(store: Store, file: string): Promise<void> {
  const text = formatEnvironmentsCsv(await store.listRecords());
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(temp, text, 'utf8');
  await fs.rename(temp, file);
}

export async function readSnapshot(
  file: string,
): Promise<{ records: EnvironmentRecord[]; writtenAt: Date | null }> {
  const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
  return { records: parseEnvironmentsCsv(text).records, writtenAt: stat.mtime };
}

/**
 * Coalesces the snapshot's rewrites: a change asks (`request`) and goes on; the first request after
 * a quiet second is written at once, the ones that follow within the second once, together, when
 * it has passed. So N operations in a burst cost about one write a second, not 2·N reads of every
 * row. `flush` writes what is pending (at close, and when a command wants the file now).
 */
export class SnapshotWriter {
  /** The writer of `store`'s rows to `file`, saying why through `warn` when a rewrite fails. */
  static of(
    store: Store,
    file: string,
    warn: (error: unknown) => void,
    firstAfterMs = 0,
  ): SnapshotWriter {
    return new SnapshotWriter(() => writeSnapshot(store, file), warn, 1000, firstAfterMs);
  }

  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private last: number;
  /** Rewrites done (for the figures). */
  writes = 0;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly minIntervalMs = 1000,
    /**
     * How long after its start the first change waits (0: written at once). A short command (the
     * CLI) writes once, at its end, rather than once at its first change and again at its end.
     */
    firstAfterMs = 0,
  ) {
    this.last = firstAfterMs > 0 ? Date.now() + firstAfterMs - minIntervalMs : 0;
  }

  request(): void {
    this.dirty = true;
    if (this.timer || this.running) return;
    const wait = Math.max(0, this.last + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => void this.run(), wait);
    this.timer.unref?.();
  }

  /** Writes now, after what is under way (a command that wants the file as the rows are). */
  async now(): Promise<void> {
    this.request();
    await this.flush();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (this.dirty) await this.run();
  }

  private async run(): Promise<void> {
    this.timer = null;
    if (!this.dirty) return;
    this.dirty = false;
    this.last = Date.now();
    this.writes++;
    this.running = this.write().catch(this.onError);
    await this.running;
    this.running = null;
    // Asked for again while it was written: once more, after the interval.
    if (this.dirty) this.request();
  }
}
