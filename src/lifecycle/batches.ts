// Carrying a confirmed batch out, a few at a time: at most `parallel` of its operations queued or
// running at once; each pass (at the confirmation, whenever an operation ends, and on every
// worker's periodic look) marks the operations that ended and records the next names' operations,
// with the batch's row locked, in the transaction that saves their outcome. A process killed
// anywhere leaves either both the operations and the batch's record of them, or neither; the next
// pass, on any replica, carries on. A name the engine refuses (busy, gone, failed) is skipped with
// why, as sync skips it.
import {
  classify,
  envName,
  isFinished,
  messageOf,
  type Failure,
  type Trigger,
} from '../domain/index.js';
import type { Batch, BatchItem } from '../store/batches.js';
import type { Store } from '../store/store.js';
import type { OperationRequest } from './engine-api.js';
import type { Engine } from './engine.js';
import type { SystemStep } from './step.js';

/** What a pass uses: the store (its transactions) and an engine that records through them. */
export interface BatchRuntime {
  store: Store;
  engine: Pick<Engine, 'within'>;
}

/** The operation a batch's name stands for (extend is applied at its confirmation, not here). */
function requestFor(batch: Batch, item: BatchItem, trigger: Trigger): OperationRequest | null {
  const name = envName(item.name);
  switch (batch.verb) {
    case 'delete':
    case 'stop':
    case 'start':
      return { kind: batch.verb, name, trigger };
    case 'sync':
      return { kind: 'sync', name, steps: (item.steps ?? []) as SystemStep[], trigger };
    case 'extend':
      return null;
  }
}

/** One pass over the batch: ended operations marked, the next recorded. Returns it as saved. */
export async function advanceBatch(
  rt: BatchRuntime,
  id: string,
  now = new Date(),
): Promise<Batch | null> {
  return rt.store.atomically(async (store) => {
    const batch = await store.batches.lock(id);
    if (!batch?.confirmedAt || batch.finishedAt || !batch.trigger) return batch;
    const trigger = batch.trigger as Trigger;
    const items = batch.items.map((i) => ({ ...i }));
    let active = 0;
    for (const item of items) {
      if (item.outcome !== 'queued' || item.operationId === undefined) continue;
      const op = await store.getOperation(item.operationId);
      if (op && !isFinished(op.status)) active++;
      else {
        item.outcome = 'done';
        item.detail = op ? `${op.kind} #${op.id} ${op.status}` : `#${item.operationId} is gone`;
      }
    }
    const engine = rt.engine.within(store);
    for (const item of items) {
      if (active >= batch.parallel) break;
      if (item.outcome !== 'planned') continue;
      const request = requestFor(batch, item, trigger);
      if (!request) continue;
      try {
        const op = await engine.request(request);
        Object.assign(item, {
          outcome: 'queued',
          operationId: op.id,
          detail: `${op.kind} #${op.id}`,
        });
        active++;
      } catch (error) {
        if (classify(error) !== 'failure') throw error;
        const fix = (error as Failure).fix;
        Object.assign(item, {
          outcome: 'skipped',
          detail: messageOf(error),
          ...(fix ? { fix } : {}),
        });
      }
    }
    const finished = items.every((i) => i.outcome === 'done' || i.outcome === 'skipped');
    await store.batches.save(id, { items, ...(finished ? { finishedAt: now } : {}) });
    return { ...batch, items, finishedAt: finished ? now : null };
  });
}

/** A pass over every confirmed batch not yet carried out (a worker's periodic look). */
export async function advanceOpenBatches(rt: BatchRuntime): Promise<void> {
  for (const id of await rt.store.batches.open()) await advanceBatch(rt, id);
}
