// The derived CSV snapshot, rewritten after changes (at most once a second, off the path of the
// change that asked: SnapshotWriter), atomically; read back when the database is down. A change to
// named environments rewrites their lines alone, each row read by its name (what a command run
// from a terminal does: its cost does not grow with the table); anything else rewrites it whole
// from every row. Writers take turns (an advisory lock), so one never renames its file over
// another's newer one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { CSV_HEADER, formatEnvironmentsCsv, parseEnvironmentsCsv } from './csv.js';
import { MANAGEMENT_CLUSTER } from '../domain/index.js';
import type { Queryable } from './db.js';
import type { EnvironmentRecord, Store } from './store.js';

/** Serialises the snapshot's writers, whichever process they run in. */
const SNAPSHOT_LOCK = 5_310_227;

/** Rewrites the snapshot: whole from every row, or (`names`) those environments' lines. */
export async function writeSnapshot(
  store: Store,
  file: string,
  names?: ReadonlySet<string>,
): Promise<void> {
  await store.atomically(async (tx: Store, q: Queryable) => {
    await q.query('select pg_advisory_xact_lock($1)', [SNAPSHOT_LOCK]);
    const current = names ? await fs.readFile(file, 'utf8').catch(() => null) : null;
    let text = current;
    for (const name of names ?? []) {
      if (text === null) break;
      text = patchCsv(text, name, await tx.getEnvironment(name));
    }
    text ??= formatEnvironmentsCsv(await tx.listRecords());
    if (text === current) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(temp, text, 'utf8');
    await fs.rename(temp, file);
  });
}

/**
 * `text` with `name`'s line as `record` says — replaced where it is, or added where the whole file
 * has it: last (the newest row), devops first — or without it (`record` null); null when `text` is
 * not a snapshot this version writes.
 */
export function patchCsv(
  text: string,
  name: string,
  record: EnvironmentRecord | null,
): string | null {
  if (!text.startsWith(`${CSV_HEADER}\n`)) return null;
  const line = record ? formatEnvironmentsCsv([record]).slice(CSV_HEADER.length + 1) : '';
  const at = text.indexOf(`\n${name},`);
  if (at === -1)
    return name === MANAGEMENT_CLUSTER
      ? `${CSV_HEADER}\n${line}${text.slice(CSV_HEADER.length + 1)}`
      : text + line;
  if (text.indexOf(`\n${name},`, at + 1) !== -1) return null;
  const end = text.indexOf('\n', at + 1);
  return text.slice(0, at + 1) + line + text.slice(end + 1);
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
    return new SnapshotWriter(
      (names) => writeSnapshot(store, file, names ?? undefined),
      warn,
      1000,
      firstAfterMs,
    );
  }

  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  /** The environments changed since the last write; null when something else changed too. */
  private names: Set<string> | null = new Set();
  private last: number;
  /** Rewrites done (for the figures). */
  writes = 0;

  constructor(
    /** Rewrites the lines of `names`, or (null) the whole file. */
    private readonly write: (names: ReadonlySet<string> | null) => Promise<void>,
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

  /** Asks for a rewrite: of `name`'s line, or of everything. */
  request(name?: string): void {
    this.dirty = true;
    if (name === undefined) this.names = null;
    else this.names?.add(name);
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
    const names = this.names;
    this.names = new Set();
    this.last = Date.now();
    this.writes++;
    this.running = this.write(names).catch((error: unknown) => {
      // Not written: its names go with the next write, which would otherwise rewrite only its own.
      if (names === null || this.names === null) this.names = null;
      else for (const name of names) this.names.add(name);
      this.onError(error);
    });
    await this.running;
    this.running = null;
    // Asked for again while it was written: once more, after the interval.
    if (this.dirty) this.request();
  }
}
