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
 * Coalesces the snapshot's rewrites: a change asks (`request`) and goes on; the snapshot is written
 * a second after the first change of a quiet spell, once for every change of that second, and so
 * on — about one write a second in a burst, never 2·N reads of every row, and none on the path of
 * the change (a CLI's create writes it once, at close). `flush` writes what is pending (at close,
 * and when a command wants the file now).
 */
export class SnapshotWriter {
  /** The writer of `store`'s rows to `file`, saying why through `warn` when a rewrite fails. */
  static of(store: Store, file: string, warn: (error: unknown) => void): SnapshotWriter {
    return new SnapshotWriter(() => writeSnapshot(store, file), warn);
  }

  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  /** Rewrites done (for the figures). */
  writes = 0;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly minIntervalMs = 1000,
  ) {}

  request(): void {
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => void this.run(), this.minIntervalMs);
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
    this.writes++;
    this.running = this.write().catch(this.onError);
    await this.running;
    this.running = null;
    // Asked for again while it was written: once more, after the interval.
    if (this.dirty) this.request();
  }
}
