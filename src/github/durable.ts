// A delivery is acted on in one transaction: admitted (de-duplicated by its keys) together with
// everything it asks for — operations with their jobs, consistency requests with theirs, the 👀
// and the replies to write — and only after the commit is anything said. A process killed before
// the commit leaves nothing (the queue hands the delivery out again, or GitHub redelivers it); one
// killed after it leaves the recorded commands (their jobs run them once) and the recorded writes
// (the outbox's pass sends each once).
import type { Queryable } from '../store/db.js';
import type { Store } from '../store/store.js';
import type { Engine } from '../lifecycle/engine.js';
import { messageOf, type Operation } from '../domain/index.js';
import type { ActionRuntime } from '../actions/index.js';
import type { Runtime } from '../runtime.js';
import { answerConsistency, type ConsistencyRequest } from './consistency.js';
import type { Outbox, Write } from './outbox.js';
import type { LogFn } from '../system/log.js';
import type { GitHubClient } from './types.js';

/** What a handler records with, inside the delivery's transaction. */
export interface Recorder {
  /** The store, bound to the transaction. */
  store: Store;
  /** The engine, recording through that store. */
  engine: Engine;
  /** A write to send once the transaction has committed (keyed: sent once, whoever sends it). */
  write(write: Write, key: string): Promise<void>;
  /** The operation's reports (status comment, check run) go out after the commit. */
  report(op: Operation): void;
  /** A consistency request, kept with the rest (its job commits with the delivery). */
  request(request: ConsistencyRequest): Promise<void>;
  /** Runs `fn` in a savepoint: what it recorded is undone when it throws, the rest stays. */
  step<T>(fn: (r: Recorder) => Promise<T>): Promise<T>;
}

export interface DurableDeps {
  rt: ActionRuntime & Pick<Runtime, 'urls'>;
  outbox: Outbox;
  /** Told what was recorded but not sent yet (the outbox's pass sends it). */
  log?: LogFn;
  /**
   * Keeps a consistency request for the queue, in the given transaction; absent (no queue: tests,
   * a single process), the request runs here after the commit.
   */
  later?: ((request: ConsistencyRequest, tx?: Queryable) => Promise<void>) | undefined;
}

type After =
  | { kind: 'write'; key: string }
  | { kind: 'report'; op: Operation }
  | { kind: 'request'; request: ConsistencyRequest };

/**
 * Admits the delivery (`keys`) and runs `record` in the same transaction; false when the delivery
 * was seen before (nothing is done). After the commit, sends what was recorded, in order. A
 * failure to send is the outbox's to retry: it is logged, never thrown — the command is kept.
 */
export async function recordDelivery(
  deps: DurableDeps,
  keys: string[],
  event: string,
  client: GitHubClient,
  record: (r: Recorder) => Promise<void>,
): Promise<boolean> {
  const { rt, outbox } = deps;
  const after: After[] = [];
  const recorder = (store: Store, tx: Queryable): Recorder => ({
    store,
    engine: rt.engine.within(store),
    write: async (write, key) => {
      await outbox.record(write, key, store);
      after.push({ kind: 'write', key });
    },
    report: (op) => void after.push({ kind: 'report', op }),
    request: async (request) => {
      if (deps.later) await deps.later(request, tx);
      else after.push({ kind: 'request', request });
    },
    step: (fn) => {
      const mark = after.length;
      return store
        .atomically((inner, innerTx) => fn(recorder(inner, innerTx)))
        .catch((error: unknown) => {
          after.length = mark; // what the undone step asked to send is not sent
          throw error;
        });
    },
  });
  const admitted = await rt.store.atomically(async (store, tx) => {
    if (!(await store.admitDelivery(keys, event))) return false;
    await record(recorder(store, tx));
    return true;
  });
  if (!admitted) return false;
  const reported = after.flatMap((a) => (a.kind === 'report' ? [a.op.envName] : []));
  if (reported.length > 0) await rt.engine.refresh(reported);
  for (const a of after) {
    try {
      if (a.kind === 'write') await outbox.flush(a.key, client);
      else if (a.kind === 'report') await outbox.report(a.op, client);
      else await answerConsistency(rt, outbox, client, a.request);
    } catch (error) {
      // Recorded: the outbox's next pass (or the operation's worker) sends it.
      deps.log?.('warn', 'a recorded answer was not sent yet; the outbox will send it', {
        delivery: keys[0],
        error: messageOf(error),
      });
    }
  }
  return true;
}
