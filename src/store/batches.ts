// batches: the environments a label selected for one verb (delete, stop, start, extend, sync). A
// preview is kept an hour; its confirmation is taken once (the row is locked and marked), and the
// batch is then carried out a few at a time by lifecycle/batches.ts, each name's outcome kept in
// `items` as it is recorded. Read back through a schema: a row is never trusted blindly.
import { z } from 'zod';
import type { Queryable } from './db.js';

export const BATCH_VERBS = ['delete', 'stop', 'start', 'extend', 'sync'] as const;
export type BatchVerb = (typeof BATCH_VERBS)[number];

const NextCommand = z.object({ verb: z.string(), args: z.array(z.string()) });

export const BatchItem = z.object({
  name: z.string(),
  /** A sync's steps, planned at the confirmation from a consistency check. */
  steps: z.array(z.string()).optional(),
  /** planned (previewed, or waiting its turn), queued (its operation recorded), done, skipped. */
  outcome: z.enum(['planned', 'queued', 'done', 'skipped']),
  operationId: z.number().int().optional(),
  detail: z.string().optional(),
  fix: NextCommand.optional(),
});
export type BatchItem = z.infer<typeof BatchItem>;

const BatchTrigger = z.object({
  source: z.string(),
  actor: z.string().nullable(),
  via: z.string().nullable().optional(),
  url: z.string().nullable(),
  repo: z.string().nullable(),
  issueNumber: z.number().nullable(),
  headSha: z.string().nullable(),
});

export interface Batch {
  id: string;
  verb: BatchVerb;
  labels: Record<string, string>;
  /** extend's duration; null pins (never); absent for the other verbs. */
  durationMs: number | null;
  items: BatchItem[];
  previewedAt: Date;
  previewedBy: string | null;
  confirmedAt: Date | null;
  /** Who confirmed, where: the trigger of every operation the batch records. */
  trigger: z.infer<typeof BatchTrigger> | null;
  parallel: number;
  finishedAt: Date | null;
}

interface BatchRow {
  id: string;
  verb: string;
  labels: unknown;
  duration_ms: string | number | null;
  items: unknown;
  previewed_at: Date;
  previewed_by: string | null;
  confirmed_at: Date | null;
  trigger: unknown;
  parallel: number;
  finished_at: Date | null;
}

const toBatch = (r: BatchRow): Batch => ({
  id: r.id,
  verb: z.enum(BATCH_VERBS).parse(r.verb),
  labels: z.record(z.string(), z.string()).parse(r.labels),
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
  items: z.array(BatchItem).parse(r.items),
  previewedAt: new Date(r.previewed_at),
  previewedBy: r.previewed_by,
  confirmedAt: r.confirmed_at ? new Date(r.confirmed_at) : null,
  trigger: r.trigger === null ? null : BatchTrigger.parse(r.trigger),
  parallel: r.parallel,
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
});

export interface BatchStore {
  /** Keeps a preview. */
  preview(
    batch: Pick<Batch, 'id' | 'verb' | 'labels' | 'durationMs' | 'items'> & {
      at: Date;
      by: string | null;
    },
  ): Promise<void>;
  get(id: string): Promise<Batch | null>;
  /** The batch, its row locked until the enclosing transaction ends (Store.atomically). */
  lock(id: string): Promise<Batch | null>;
  /** Saves what carrying it out changed. */
  save(
    id: string,
    patch: Partial<Pick<Batch, 'items' | 'confirmedAt' | 'trigger' | 'parallel' | 'finishedAt'>>,
  ): Promise<void>;
  /** Confirmed batches not yet carried out to their last name. */
  open(): Promise<string[]>;
  /** Forgets previews never confirmed, kept since before `before`. */
  forgetUnconfirmed(before: Date): Promise<void>;
}

const COLUMNS = {
  items: 'items',
  confirmedAt: 'confirmed_at',
  trigger: 'trigger',
  parallel: 'parallel',
  finishedAt: 'finished_at',
} as const;
const JSON_COLUMNS = new Set(['items', 'trigger']);

export class BatchTable implements BatchStore {
  constructor(private readonly db: Queryable) {}

  async preview(batch: Parameters<BatchStore['preview']>[0]): Promise<void> {
    await this.db.query(
      `insert into batches (id, verb, labels, duration_ms, items, previewed_at, previewed_by)
       values ($1, $2, $3::jsonb, $4, $5::jsonb, $6, $7)`,
      [
        batch.id,
        batch.verb,
        JSON.stringify(batch.labels),
        batch.durationMs,
        JSON.stringify(batch.items),
        batch.at,
        batch.by,
      ],
    );
  }

  async get(id: string): Promise<Batch | null> {
    const rows = await this.db.query<BatchRow>('select * from batches where id = $1', [id]);
    return rows[0] ? toBatch(rows[0]) : null;
  }

  async lock(id: string): Promise<Batch | null> {
    const rows = await this.db.query<BatchRow>('select * from batches where id = $1 for update', [
      id,
    ]);
    return rows[0] ? toBatch(rows[0]) : null;
  }

  async save(id: string, patch: Parameters<BatchStore['save']>[1]): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [key, column] of Object.entries(COLUMNS)) {
      if (!(key in patch)) continue;
      const value = patch[key as keyof typeof patch];
      values.push(JSON_COLUMNS.has(key) && value !== null ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}${JSON_COLUMNS.has(key) ? '::jsonb' : ''}`);
    }
    if (sets.length)
      await this.db.query(`update batches set ${sets.join(', ')} where id = $1`, values);
  }

  async open(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `select id from batches where confirmed_at is not null and finished_at is null
        order by confirmed_at`,
    );
    return rows.map((r) => r.id);
  }

  async forgetUnconfirmed(before: Date): Promise<void> {
    await this.db.query('delete from batches where confirmed_at is null and previewed_at < $1', [
      before,
    ]);
  }
}
