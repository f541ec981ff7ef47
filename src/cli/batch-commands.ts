// `kindler delete|stop|start|extend|sync --label k=v…` previews a batch; `… --confirm <batch>`
// carries it out and, as every lifecycle command does, runs its operations here (`… --cancel
// <batch>` stops what is left of it, wherever it runs): at most its
// parallelism at once, the next recorded as one ends (lifecycle/batches.ts), a line as each ends.
// An operation another worker holds is left to it; the command waits until the batch is carried
// out to its last name.
import { batch as perform, contextOf, type ActionRuntime } from '../actions/index.js';
import { sayBatch } from '../actions/say.js';
import type { BatchVerb } from '../commands/verbs.js';
import { envName, type Operation } from '../domain/index.js';
import { advanceBatch } from '../lifecycle/batches.js';
import type { Runtime } from '../runtime.js';
import { workerName } from '../system/owner.js';
import { EXIT } from './exit-codes.js';
import { err, out, type CliIo } from './io.js';
import { batchArgs } from './lifecycle-args.js';
import { cliTrigger } from './lifecycle-commands.js';
import { runHere } from './run-here.js';

type BatchDeps = ActionRuntime & Pick<Runtime, 'config'>;

export const batch =
  (verb: BatchVerb) =>
  async (rt: BatchDeps, args: string[], io: CliIo): Promise<number> => {
    const { values, command } = batchArgs(verb, args);
    const json = values.json === true;
    const outcome = await perform(command, contextOf(rt, cliTrigger(io)));
    if (!outcome.confirmed || outcome.cancelled || verb === 'extend' || !outcome.id) {
      out(io, json ? JSON.stringify({ batch: outcome }, null, 2) : sayBatch(outcome, 'cli'));
      return EXIT.ok;
    }
    if (!json) err(io, sayBatch(outcome, 'cli'));
    const ended = await runBatchHere(rt, outcome.id, io, json);
    const final = await rt.store.batches.get(outcome.id);
    if (json)
      out(io, JSON.stringify({ batch: { ...outcome, items: final?.items ?? [] } }, null, 2));
    return ended.some((op) => op.status !== 'success') ? EXIT.failed : EXIT.ok;
  };

/** Runs the batch's operations here until it is carried out; returns those that ended here. */
async function runBatchHere(
  rt: BatchDeps,
  id: string,
  io: CliIo,
  json: boolean,
): Promise<Operation[]> {
  const tried = new Set<number>();
  const running = new Map<number, Promise<void>>();
  const ended: Operation[] = [];
  const owner = workerName('cli');
  for (;;) {
    const now = await advanceBatch(rt, id);
    if (!now || (now.finishedAt && running.size === 0) || io.signal?.aborted) return ended;
    for (const item of now.items) {
      const opId = item.operationId;
      if (item.outcome !== 'queued' || opId === undefined || tried.has(opId)) continue;
      tried.add(opId);
      const run = runHere(
        rt,
        { id: opId, envName: envName(item.name), kind: now.verb as Operation['kind'] },
        io,
        { owner, waitMs: rt.config.KINDLER_DB_WAIT_SECONDS * 1000 },
      ).then((final) => {
        if (final) ended.push(final);
        if (!json)
          err(
            io,
            final
              ? `${item.name}: ${final.kind} #${final.id} ${final.status}` +
                  (final.error ? ` (${final.error})` : '')
              : `${item.name}: #${opId} is run by another worker; follow it with: ` +
                  `kindler status ${item.name}`,
          );
      });
      running.set(
        opId,
        run.finally(() => running.delete(opId)),
      );
    }
    // One ended (the next is recorded at the next pass), or, with all held elsewhere, a while.
    if (running.size) await Promise.race(running.values());
    else await new Promise((r) => setTimeout(r, 1_000));
  }
}
