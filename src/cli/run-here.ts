// Running an operation in this process, surviving our own database's restart: when it stops
// answering mid-operation, the engine hands the operation back (nothing half-done: the step it was
// in is resumed, not repeated as done); here we wait for the database and take the operation up
// again where it stopped, for as long as KINDLER_DB_WAIT_SECONDS allows, then say so and exit.
import { Failure, isDatabaseUnavailable, type Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import type { Engine } from '../lifecycle/engine.js';
import type { Store } from '../store/store.js';
import { err, type CliIo } from './io.js';

export interface RunHereOptions {
  owner: string;
  observer?: OperationObserver;
  /** How long to wait for the database to answer again. */
  waitMs: number;
  pollMs?: number;
}

export async function runHere(
  rt: { engine: Engine; store: Pick<Store, 'releaseLease'> },
  op: Pick<Operation, 'id' | 'envName' | 'kind'>,
  io: CliIo,
  options: RunHereOptions,
): Promise<Operation | null> {
  const deadline = Date.now() + options.waitMs;
  let said = false;
  for (;;) {
    try {
      const final = await rt.engine.execute(op.id, {
        owner: options.owner,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(options.observer ? { observer: options.observer } : {}),
      });
      // Handed back while running: a database that stopped answering (or a lease lost, and then
      // the next claim says so by returning null).
      if (!final || final.status !== 'running' || io.signal?.aborted) return final;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
    }
    if (Date.now() >= deadline)
      throw new Failure(
        'degraded',
        `the database stopped answering while ${op.kind} #${op.id} of "${op.envName}" ran, and ` +
          `did not answer again within ${Math.round(options.waitMs / 1000)} s. Nothing is ` +
          `half-done: the operation resumes at its step with the next worker, or with the ` +
          `command below`,
        { verb: 'retry', args: [op.envName] },
      );
    if (!said)
      err(io, `The database stopped answering; waiting for it to take #${op.id} up again…`);
    said = true;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    // Our own lease, if the hand-back could not release it: released now, so the claim is ours.
    await rt.store.releaseLease(op.id, options.owner).catch(() => undefined);
  }
}
