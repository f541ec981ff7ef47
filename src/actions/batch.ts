// `delete|stop|start|extend|sync --label k=v…` and `… --confirm <batch>`: one protocol on every
// surface, prune's. A preview lists the environments carrying every label (at most
// LIMITS.batchMax), each judged by the asker's rights for that environment, changes nothing, and
// is kept for an hour under an id. The confirmation names that id, is taken once, judges each name
// again by the confirmer's rights, and carries the batch out: an extend at once, the others one
// operation per environment, at most KINDLER_BATCH_PARALLEL at a time (lifecycle/batches.ts), each
// reported as every operation is (its status comment and check run where it was confirmed).
// `… --cancel <batch>` stops what is left of one being carried out.
import { randomBytes } from 'node:crypto';
import type { BatchCommand, BatchVerb } from '../commands/verbs.js';
import { checkConsistency } from '../consistency/check.js';
import { planSyncs } from '../consistency/repair.js';
import { Failure, classify, command as next, envName, messageOf } from '../domain/index.js';
import { advanceBatch } from '../lifecycle/batches.js';
import type { Batch, BatchItem } from '../store/batches.js';
import type { Store } from '../store/store.js';
import { authorize } from './authorize.js';
import { LIMITS, type ActionContext } from './context.js';
import { extend } from './extend.js';

export interface BatchOutcome {
  verb: 'batch';
  /** The verb carried out on each environment. */
  of: BatchVerb;
  confirmed: boolean;
  /** Stopped: what had not started will not, what had is asked to stop after its step. */
  cancelled?: boolean;
  /** Null when the labels select nothing (nothing is kept then). */
  id: string | null;
  labels: Record<string, string>;
  /** extend's duration (null: never). */
  durationMs: number | null;
  /** Until when the preview can be confirmed. */
  expiresAt: Date | null;
  /** Each environment: planned (or waiting its turn), queued, done, or skipped with why. */
  items: BatchItem[];
  /** How many of its operations run at once. */
  parallel: number;
}

type BatchContext = Pick<
  ActionContext,
  'engine' | 'store' | 'systems' | 'trigger' | 'now' | 'judge'
>;

export function batch(command: BatchCommand, ctx: BatchContext): Promise<BatchOutcome> {
  const { batch: asked } = command;
  if ('confirm' in asked) return confirm(command.verb, asked.confirm, ctx);
  if ('cancel' in asked) return stop(command.verb, asked.cancel, ctx);
  return preview(command.verb, asked.labels, asked.durationMs ?? null, ctx);
}

/**
 * Each planned item the asker may not act on, skipped with the rule that refused it: judged as a
 * command naming it would be (`authorize`: extend as create too).
 */
async function judge(
  items: BatchItem[],
  verb: BatchVerb | 'cancel',
  ctx: BatchContext,
): Promise<BatchItem[]> {
  const { judge: decide } = ctx;
  if (!decide) return items;
  const out: BatchItem[] = [];
  for (const item of items) {
    // A cancel is judged as the operation it stops is (authorize finds it by the name).
    const decision =
      item.outcome === 'planned' || (verb === 'cancel' && item.outcome === 'queued')
        ? await authorize(
            { verb, name: envName(item.name) },
            (v) => decide(v, item.name),
            ctx.store,
          )
        : null;
    out.push(
      decision && !decision.allowed
        ? { ...item, outcome: 'skipped', detail: decision.message }
        : item,
    );
  }
  return out;
}

async function preview(
  verb: BatchVerb,
  labels: Record<string, string>,
  durationMs: number | null,
  ctx: BatchContext,
): Promise<BatchOutcome> {
  const now = ctx.now?.() ?? new Date();
  const { environments } = await ctx.store.pageEnvironments({
    after: null,
    limit: LIMITS.batchMax + 1,
    labels,
  });
  if (environments.length > LIMITS.batchMax)
    throw new Failure(
      'invalid_input',
      `the labels select more than ${LIMITS.batchMax} environments, more than one batch holds; ` +
        `narrow them with another --label. Nothing was done`,
      next('list', ...Object.entries(labels).map(([k, v]) => `--label=${k}=${v}`)),
    );
  const planned = environments.map((e): BatchItem => ({ name: e.name, outcome: 'planned' }));
  const items = await judge(planned, verb, ctx);
  const parallel = ctx.systems.config.KINDLER_BATCH_PARALLEL;
  const shown = {
    verb: 'batch',
    of: verb,
    confirmed: false,
    labels,
    durationMs,
    parallel,
  } as const;
  await ctx.store.batches.forgetUnconfirmed(new Date(now.getTime() - LIMITS.prunePreviewMs));
  if (!items.some((i) => i.outcome === 'planned'))
    return { ...shown, id: null, expiresAt: null, items };
  const id = randomBytes(4).toString('hex');
  await ctx.store.batches.preview({
    id,
    verb,
    labels,
    durationMs,
    items,
    at: now,
    by: ctx.trigger.actor,
  });
  return { ...shown, id, expiresAt: new Date(now.getTime() + LIMITS.prunePreviewMs), items };
}

/** The preview `id` of `verb`, still open to confirmation, or why not. */
function openBatch(batch: Batch | null, verb: BatchVerb, id: string, now: Date): Batch {
  const expired = batch && batch.previewedAt.getTime() + LIMITS.prunePreviewMs <= now.getTime();
  if (!batch || batch.verb !== verb || batch.confirmedAt || expired)
    throw new Failure(
      'nothing_to_do',
      `there is no ${verb} preview "${id}" to carry out (` +
        (batch?.confirmedAt
          ? `it was carried out at ${batch.confirmedAt.toISOString()}`
          : batch && batch.verb !== verb
            ? `"${id}" is a ${batch.verb} preview`
            : 'a preview lasts an hour and is carried out once') +
        '); nothing was done',
      next(verb, '--label', 'key=value'),
    );
  return batch;
}

async function confirm(verb: BatchVerb, id: string, ctx: BatchContext): Promise<BatchOutcome> {
  const now = ctx.now?.() ?? new Date();
  const seen = openBatch(await ctx.store.batches.get(id), verb, id, now);
  // A sync's steps come from a consistency check, made before the batch's row is locked.
  const syncs =
    verb === 'sync'
      ? planSyncs(
          // Read through the asker's store (a comment's transaction: PGlite's one connection).
          await checkConsistency({ ...ctx.systems, store: ctx.store }),
          new Set(seen.items.map((i) => i.name)),
        )
      : null;
  const parallel = ctx.systems.config.KINDLER_BATCH_PARALLEL;
  const saved = await ctx.store.atomically(async (store) => {
    const batch = openBatch(await store.batches.lock(id), verb, id, now);
    let items = await judge(batch.items, verb, ctx);
    if (syncs) items = items.map((i) => withSyncSteps(i, syncs));
    if (verb === 'extend') items = await extendAll(items, batch.durationMs, store, ctx);
    await store.batches.save(id, { items, confirmedAt: now, trigger: ctx.trigger, parallel });
    return advanceBatch({ store, engine: ctx.engine }, id, now);
  });
  const batch = saved ?? seen;
  return {
    verb: 'batch',
    of: verb,
    confirmed: true,
    id,
    labels: batch.labels,
    durationMs: batch.durationMs,
    expiresAt: null,
    items: batch.items,
    parallel,
  };
}

/**
 * What is left of a batch being carried out, stopped: each name not yet started is skipped, each
 * operation queued or running is cancelled as `/env cancel <name>` would (a queued one at once, a
 * running one after its step) — each judged by the canceller's rights on that environment, as a
 * cancel naming it would be; those refused go on and are listed so. One transaction, the batch's
 * row locked: no pass starts another name meanwhile.
 */
async function stop(verb: BatchVerb, id: string, ctx: BatchContext): Promise<BatchOutcome> {
  const now = ctx.now?.() ?? new Date();
  const who = ctx.trigger.actor ?? 'the operator';
  const saved = await ctx.store.atomically(async (store) => {
    const batch = await store.batches.lock(id);
    if (!batch || batch.verb !== verb || !batch.confirmedAt || batch.finishedAt)
      throw new Failure(
        'nothing_to_do',
        `there is no ${verb} batch "${id}" being carried out (` +
          (batch?.finishedAt
            ? `it ended at ${batch.finishedAt.toISOString()}`
            : batch && batch.verb !== verb
              ? `"${id}" is a ${batch.verb} batch`
              : batch
                ? 'it was previewed, not confirmed: a preview left alone changes nothing'
                : 'no batch has that id') +
          '); nothing was done',
      );
    const judged = await judge(batch.items, 'cancel', { ...ctx, store });
    const engine = ctx.engine.within(store);
    const items: BatchItem[] = [];
    for (const [i, item] of judged.entries()) {
      const before = batch.items[i] as BatchItem;
      if (item.outcome === 'skipped' && before.outcome !== 'skipped') {
        // Refused: it goes on, and says who could not stop it.
        items.push({
          ...before,
          detail: `${before.detail ?? before.outcome}; not cancelled: ${item.detail}`,
        });
      } else if (item.outcome === 'planned') {
        items.push({ ...item, outcome: 'skipped', detail: `cancelled by ${who}` });
      } else if (item.outcome === 'queued') {
        const op = await engine.cancel(envName(item.name));
        const how = op?.status === 'cancelled' ? 'cancelled' : 'stops after its step';
        items.push({ ...item, detail: op ? `${op.kind} #${op.id} ${how}` : item.detail });
      } else items.push(item);
    }
    await store.batches.save(id, { items });
    return advanceBatch({ store, engine: ctx.engine }, id, now);
  });
  const batch = saved as Batch;
  return {
    verb: 'batch',
    of: verb,
    confirmed: true,
    cancelled: true,
    id,
    labels: batch.labels,
    durationMs: batch.durationMs,
    expiresAt: null,
    items: batch.items,
    parallel: batch.parallel,
  };
}

/** A planned sync's steps, or skipped when its systems already hold what its row implies. */
function withSyncSteps(item: BatchItem, plan: ReturnType<typeof planSyncs>): BatchItem {
  if (item.outcome !== 'planned') return item;
  const entry = plan.find((e) => e.name === item.name);
  if (!entry?.steps.length)
    return {
      ...item,
      outcome: 'skipped',
      detail: entry?.kept
        ? `${entry.kept.detail}; sync deletes nothing`
        : 'nothing to sync: its systems hold what its row implies',
    };
  return { ...item, steps: entry.steps };
}

/** Each planned environment's expiry pushed back (never: pinned) by the extend action itself. */
async function extendAll(
  items: BatchItem[],
  durationMs: number | null,
  store: Store,
  ctx: BatchContext,
): Promise<BatchItem[]> {
  const out: BatchItem[] = [];
  for (const item of items) {
    if (item.outcome !== 'planned') {
      out.push(item);
      continue;
    }
    try {
      const command = { verb: 'extend', name: envName(item.name), durationMs } as const;
      const { environment: env } = await extend(command, { ...ctx, store });
      const until = env.expiresAt ? `expires ${env.expiresAt.toISOString()}` : 'pinned';
      out.push({ ...item, outcome: 'done', detail: until });
    } catch (error) {
      if (classify(error) !== 'failure') throw error;
      out.push({ ...item, outcome: 'skipped', detail: messageOf(error) });
    }
  }
  return out;
}
