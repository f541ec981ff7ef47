// The one interface to the state. Two backends run the same SQL: PostgreSQL (`pg`) when
// DATABASE_URL is set, embedded PGlite under KINDLER_DATA_DIR otherwise.
import { z } from 'zod';
import type { StateKey } from './state-key.js';
import type { NotificationStore } from './notifications.js';
import type { VersionStore } from './versions.js';
import type { BatchStore } from './batches.js';
import type { EnvironmentStore } from './environment-store.js';
export type {
  EnvironmentPage,
  EnvironmentPatch,
  EnvironmentRecord,
  EnvironmentStore,
  ImportReport,
} from './environment-store.js';
import type {
  DeploymentState,
  EnvName,
  NextCommand,
  Operation,
  OperationChange,
  OperationKind,
  OperationStatus,
  StepName,
  StepState,
  Trigger,
} from '../domain/index.js';
import type { Queryable } from './db.js';
import type { QueueConnection } from './pglite-db.js';
import type { WriteLog } from './writes.js';

/** A signed-in browser: who, how they proved it, and the token its changes carry. */
export interface ConsoleSession {
  idHash: string;
  login: string;
  via: 'github' | 'token';
  csrf: string;
  expiresAt: Date;
}

/** A change, as announced on kindler_events (migration 006). */
export const StoreEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('operation'),
    operation: z.number(),
    env: z.string(),
    kind: z.string(),
    status: z.string(),
    step: z.string().nullable(),
  }),
  z.object({
    type: z.literal('step'),
    operation: z.number(),
    env: z.string(),
    step: z.string(),
    status: z.string(),
  }),
  z.object({ type: z.literal('environment'), env: z.string(), status: z.string().nullable() }),
  /** Listening was lost and is back: what happened meanwhile was not announced; read afresh. */
  z.object({ type: z.literal('resync') }),
  /** Listening was lost: until the resync, nothing that changes is announced. */
  z.object({ type: z.literal('lost') }),
  /**
   * A row of a table the console reads was inserted, deleted or changed in a column someone is
   * shown (a transaction's told once, at its commit): what was read of it before may be old.
   */
  z.object({ type: z.literal('changed') }),
  /** The config repository declared other sites (store/declared-sites.ts): use them from now. */
  z.object({ type: z.literal('sites') }),
]);
export type StoreEvent = z.infer<typeof StoreEvent>;

/** Enqueues an operation's job inside the transaction that records it (see enqueueWith). */
export type EnqueueIn = (tx: Queryable, operationId: number) => Promise<void>;

/** What a step's save also writes of its operation. */
export type StepPatch = Pick<OperationPatch, 'currentStep' | 'logOutput'>;

export interface OperationPatch {
  status?: OperationStatus;
  currentStep?: StepName | null;
  failedStep?: StepName | null;
  error?: string | null;
  fixCommand?: NextCommand | null;
  logOutput?: string | null;
  commentId?: number | null;
  checkRunId?: number | null;
  deploymentId?: number | null;
  deploymentState?: DeploymentState | null;
  completedAt?: Date | null;
}

/** What an operation is recorded with. */
export interface NewOperation {
  envName: EnvName;
  kind: OperationKind;
  trigger: Trigger;
  /** Steps recorded as skipped from the start (nothing to do), in the same transaction. */
  skip?: readonly StepName[];
  /** What the skipped steps say (NOTHING_TO_DO unless told). */
  skipDetail?: string;
  /** An update's configuration before and after. */
  change?: OperationChange | null;
}

/** Operations, their steps, their leases and their history. */
export interface OperationStore {
  /**
   * Records a new operation with its steps `pending` (those in `skip` skipped, detail
   * NOTHING_TO_DO). Failure('busy') when the environment already has a queued or running operation
   * (one at a time, enforced by a unique index).
   */
  createOperation(input: NewOperation): Promise<Operation>;
  getOperation(id: number): Promise<Operation | null>;
  /** The queued or running operation of an environment, if any. */
  activeOperation(envName: EnvName): Promise<Operation | null>;
  latestOperation(envName: EnvName, kind?: OperationKind): Promise<Operation | null>;
  listOperations(filter?: {
    envName?: EnvName;
    limit?: number;
    status?: OperationStatus[];
  }): Promise<Operation[]>;
  /**
   * Takes the operation for this worker when it is queued, or running with an expired lease
   * (its worker died). Returns null when someone else holds it or it is finished.
   */
  claimOperation(id: number, owner: string, leaseMs: number): Promise<Operation | null>;
  /** Extends the lease; false when the lease was lost to another worker. */
  renewLease(id: number, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(id: number, owner: string): Promise<void>;
  /** Saves a step's state and what `op` says of its operation, in one statement. */
  saveStep(id: number, state: StepState, op?: StepPatch): Promise<void>;
  updateOperation(id: number, patch: OperationPatch): Promise<Operation>;
  patchOperation(id: number, patch: OperationPatch): Promise<void>; // not read back
  cancelRequested(id: number): Promise<boolean>;
  /** Cancels an operation that is still queued (no worker has it), with why; false otherwise. */
  cancelQueued(id: number, error: string): Promise<boolean>;
  /** Sets cancel_requested on the active operation; returns it, or null if there is none. */
  requestCancel(envName: EnvName): Promise<Operation | null>;
  /**
   * Puts a failed or cancelled operation back in the queue (retry); done steps stay done. `by` is
   * who asked this time: the operation records them as its actor from then on.
   */
  reopenOperation(id: number, by?: Pick<Trigger, 'actor' | 'source' | 'via'>): Promise<Operation>;
  /** How many operations there are by kind and status (metrics). */
  operationCounts(): Promise<{ kind: OperationKind; status: OperationStatus; count: number }[]>;
  /**
   * Forgets finished operations (and their steps) older than `olderThan` or beyond the newest
   * `keepPerEnv` of their environment; never an operation under way, never an environment's last.
   * Returns how many were forgotten.
   */
  pruneHistory(options: { olderThan: Date | null; keepPerEnv: number | null }): Promise<number>;
  /** Running operations whose lease expired: their worker died. */
  orphanedOperations(): Promise<Operation[]>;
}

/** What the intake and the Git service remember, and what every replica is told. */
export interface DeliveryStore {
  /**
   * The one place deliveries are de-duplicated: records a delivery's keys (its id, and for a
   * comment the version of its body); false when any of them was seen before, so it is not acted
   * on.
   */
  admitDelivery(keys: string[], event: string): Promise<boolean>;
  /** Forgets deliveries received over `olderThanMs` ago (redelivered for days at most). */
  forgetDeliveries(olderThanMs: number): Promise<number>;
  /** Git objects read before, by id (`blob:<oid>`, …): what an id names never changes. */
  gitObjects(ids: string[]): Promise<Map<string, string>>;
  /** Keeps Git objects by id; an id kept before is only marked as used. */
  keepGitObjects(objects: Map<string, string>): Promise<void>;
  /**
   * Calls `onEvent` with every change of an operation, a step or an environment, made by any
   * process on this database (PostgreSQL LISTEN/NOTIFY), until the returned function is called.
   */
  events(onEvent: (event: StoreEvent) => void): Promise<() => Promise<void>>;
}

/** The console's signed-in browsers. */
export interface SessionStore {
  /** A signed-in browser's session (by the hash of its cookie), until it expires. */
  createSession(session: ConsoleSession): Promise<void>;
  getSession(idHash: string): Promise<ConsoleSession | null>;
  /** Signs out: the session is gone for every replica. */
  deleteSession(idHash: string): Promise<void>;
}

/** Small JSON documents kept under schema-carrying keys. */
export interface StateStore {
  /** Small JSON documents (latest consistency report, drift issue number, …). */
  getState<S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null>;
  /** The entries `names` of a document keyed by name, as stored (unchecked): not the whole. */
  getStateEntries(key: string, names: string[]): Promise<Record<string, unknown>>;
  setState<S extends z.ZodType>(key: StateKey<S>, value: z.input<S>): Promise<void>;
  /** Reads and removes a document in one step: of two takers, one gets it. */
  takeState<S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null>;
  /** Removes the documents under `prefix` last written before `olderThan`; how many. */
  forgetStates(prefix: string, olderThan: Date): Promise<number>;
  /**
   * Takes the turn of periodic work `name` when nobody took it in the last `everyMs`: of the
   * processes asking, one gets it per period.
   */
  claimTurn(name: string, everyMs: number): Promise<boolean>;
}

/**
 * The one interface to the state, by concern: environments, operations, GitHub writes (WriteLog),
 * deliveries and events, console sessions, small documents; with the database's own life here.
 */
export interface Store
  extends EnvironmentStore, OperationStore, WriteLog, DeliveryStore, SessionStore, StateStore {
  readonly backend: 'postgres' | 'pglite';
  /** Alerts for KINDLER_NOTIFY_URL, kept until delivered. */
  readonly notifications: NotificationStore;
  /** Every change of an environment's configuration. */
  readonly versions: VersionStore;
  /** Operations on the environments a label selected: previewed, confirmed, carried out. */
  readonly batches: BatchStore;
  /**
   * Applies pending migrations; safe when several processes call it at once. Returns versions
   * applied.
   */
  migrate(): Promise<string[]>;
  /**
   * How the queue reaches this database: PGlite's one connection to share, or a connection string.
   */
  queueDatabase(): { pglite: QueueConnection } | { connectionString: string };
  /**
   * From now on every operation recorded or reopened gets its job from `enqueue`, in the same
   * transaction: an operation is never queued without a job, nor a job sent for one not recorded.
   * `null` stops it (the queue closed).
   */
  enqueueWith(enqueue: EnqueueIn | null): void;
  /** True when every known migration has been applied (readiness). */
  migrationsCurrent(): Promise<boolean>;
  /** Cheap liveness probe (`select 1`). */
  ping(): Promise<void>;
  /**
   * Runs `fn` in one transaction over a store bound to it (and the transaction itself, for what
   * else must commit with it: a queue job). Nested, it is a savepoint. Nothing outside the given
   * store may be used inside (the embedded database has one connection).
   */
  atomically<T>(fn: (store: Store, tx: Queryable) => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
