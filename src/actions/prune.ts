// `prune [name…]` and `prune --confirm <preview>`: one protocol on every surface. A preview lists
// what no database row claims but some system still holds, changes nothing, and is kept for an
// hour under an id; the confirmation names that id and records a prune operation for each listed
// name that is still orphaned then (at most LIMITS.repairsPerRequest). A preview is carried out
// once: a second confirmation finds nothing to confirm.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CommandOf } from '../commands/verbs.js';
import {
  previewPrune,
  requestPrunes,
  type RepairAction,
  type RepairPlan,
} from '../consistency/repair.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import { Failure, command as next } from '../domain/index.js';
import { stateKey } from '../store/state-key.js';
import { LIMITS, type ActionContext } from './context.js';

export interface PrunePreview {
  id: string;
  names: string[];
  expiresAt: Date;
}

export type PruneOutcome =
  | {
      verb: 'prune';
      confirmed: false;
      /** Null when there is nothing to prune (nothing is kept then). */
      preview: PrunePreview | null;
      actions: RepairAction[];
      report: ConsistencyReport;
    }
  | ({ verb: 'prune'; confirmed: true; preview: PrunePreview } & RepairPlan);

const PREFIX = 'prune:preview:';
const Kept = z.object({ names: z.array(z.string()), at: z.string(), by: z.string().nullable() });
const previewKey = (id: string) => stateKey(`${PREFIX}${id}`, Kept);

/** A preview still open to confirmation (within its hour), or null. */
export async function openPreview(
  store: ActionContext['store'],
  id: string,
  now = new Date(),
): Promise<PrunePreview | null> {
  if (!/^[0-9a-f]{8}$/.test(id)) return null;
  const kept = await store.getState(previewKey(id));
  if (!kept) return null;
  const expiresAt = new Date(new Date(kept.at).getTime() + LIMITS.prunePreviewMs);
  return expiresAt > now ? { id, names: kept.names, expiresAt } : null;
}

export async function prune(
  command: CommandOf<'prune'>,
  ctx: Pick<ActionContext, 'engine' | 'store' | 'systems' | 'trigger' | 'now'>,
): Promise<PruneOutcome> {
  const now = ctx.now?.() ?? new Date();
  if (command.confirm === null) {
    const plan = await previewPrune(ctx.systems, {
      now,
      ...(command.names?.length ? { names: command.names } : {}),
    });
    const names = [...new Set(plan.actions.map((a) => a.name))];
    await ctx.store.forgetStates(PREFIX, new Date(now.getTime() - LIMITS.prunePreviewMs));
    if (names.length === 0) return { verb: 'prune', confirmed: false, preview: null, ...plan };
    const id = randomBytes(4).toString('hex');
    await ctx.store.setState(previewKey(id), {
      names,
      at: now.toISOString(),
      by: ctx.trigger.actor,
    });
    const expiresAt = new Date(now.getTime() + LIMITS.prunePreviewMs);
    return { verb: 'prune', confirmed: false, preview: { id, names, expiresAt }, ...plan };
  }
  // Read, carried out, then forgotten: a process that dies between the two leaves the preview to
  // be confirmed again (the names it already recorded are busy or gone then, never pruned twice).
  const preview = await openPreview(ctx.store, command.confirm, now);
  if (!preview)
    throw new Failure(
      'nothing_to_do',
      `there is no prune preview "${command.confirm}" to carry out (a preview lasts an hour ` +
        `and is carried out once); nothing was done`,
      next('prune'),
    );
  const plan = await requestPrunes(
    { ...ctx.systems, engine: ctx.engine },
    {
      names: preview.names,
      stillOrphaned: true,
      trigger: ctx.trigger,
      limit: LIMITS.repairsPerRequest,
    },
  );
  await ctx.store.takeState(previewKey(preview.id));
  return { verb: 'prune', confirmed: true, preview, ...plan };
}
