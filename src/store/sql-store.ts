// The Store over either backend: the same SQL on PostgreSQL and PGlite.
import type { z } from 'zod';
import type { StateKey } from './state-key.js';
import * as states from './state.js';
import { NotificationTable } from './notifications.js';
import { VersionTable } from './versions.js';
import { insertEnvironment, moveEnvironment, usageBySite } from './insert-environment.js';
import { BatchTable } from './batches.js';
import { environmentDetail } from './detail.js';
import type { DetailOptions } from './environment-store.js';
import { storeEvents } from './events.js';
import { createSession, deleteSession, getSession } from './sessions.js';
import { admitDelivery, forgetDeliveries, gitObjects, keepGitObjects } from './deliveries.js';
import {
  activeOperation,
  latestOperation,
  listOperations,
  operationCounts,
  orphanedOperations,
  cancelRequested,
} from './operation-reads.js';
import {
  alreadyExists,
  type EnvName,
  type Environment,
  type NewEnvironment,
  type Operation,
  type OperationKind,
  type OperationStatus,
  type StepState,
  type Trigger,
} from '../domain/index.js';
import { pgCode, TxDb, type Db, type Queryable } from './db.js';
import * as envs from './environments.js';
import { listRecords } from './records.js';
import { DEFAULT_RANGES, type AllocationRanges } from './allocation.js';
import { migrate, migrationsCurrent } from './migrate.js';
import { PgDb } from './pg-db.js';
import { PgliteDb, type QueueConnection } from './pglite-db.js';
import { importPglite, type PgliteImport } from './pglite-import.js';
import {
  busyFailure,
  releaseLease,
  cancelQueued,
  pruneHistory,
  requestCancel,
  claim,
  insertOperation,
  loadOperation,
  reopen,
  renew,
  saveStep,
  patchOperation,
} from './operations.js';
import {
  claimWrite,
  dueWrites,
  finishWrite,
  forgetDeliveredWrites,
  holdWrites,
  putWrite,
  renewWrite,
  reserveWriteTurn,
  writesHeldUntil,
  undeliveredWrites,
  type NewWrite,
  type WriteOutcome,
  type WriteRecord,
} from './writes.js';
import type {
  EnvironmentPage,
  ConsoleSession,
  StoreEvent,
  EnqueueIn,
  EnvironmentPatch,
  EnvironmentRecord,
  ImportReport,
  NewOperation,
  OperationPatch,
  StepPatch,
  Store,
} from './store.js';

export class SqlStore implements Store {
  readonly backend: Db['backend'];
  readonly notifications: NotificationTable;
  readonly versions: VersionTable;
  readonly batches: BatchTable;
  private enqueue: EnqueueIn | null = null;

  constructor(
    private readonly db: Db,
    private readonly ranges: AllocationRanges = DEFAULT_RANGES,
  ) {
    this.backend = db.backend;
    this.notifications = new NotificationTable(db);
    this.versions = new VersionTable(db);
    this.batches = new BatchTable(db);
  }

  enqueueWith(enqueue: EnqueueIn | null): void {
    this.enqueue = enqueue;
  }

  atomically<T>(fn: (store: Store, tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const inner = new SqlStore(
        this.db instanceof TxDb ? this.db : new TxDb(tx, this.backend),
        this.ranges,
      );
      inner.enqueue = this.enqueue;
      // Nested: a savepoint of the enclosing transaction, rolled back alone when `fn` throws.
      return fn(inner, tx);
    });
  }

  queueDatabase(): { pglite: QueueConnection } | { connectionString: string } {
    if (this.db instanceof PgliteDb) return { pglite: this.db.forQueue() };
    if (this.db instanceof PgDb) return { connectionString: this.db.connectionString };
    throw new Error('the queue needs PostgreSQL or PGlite');
  }

  /** Moves the data of a PGlite directory kept under `dataDir` into this store, once. */
  readonly importPglite = (dataDir: string): Promise<PgliteImport | null> =>
    importPglite(dataDir, this.db);
  readonly migrationsCurrent = (): Promise<boolean> => migrationsCurrent(this.db);
  readonly migrate = (): Promise<string[]> => migrate(this.db);
  readonly usageBySite = (d: Parameters<typeof usageBySite>[1]) => usageBySite(this.db, d);

  async ping(): Promise<void> {
    await this.db.query('select 1');
  }

  async insertEnvironment(input: NewEnvironment): Promise<Environment> {
    try {
      return await this.db.transaction((tx) => insertEnvironment(tx, input, this.ranges));
    } catch (error) {
      // Two inserts of one name that both passed the existence check: the primary key decides.
      if (pgCode(error) === '23505') {
        const existing = await this.getEnvironment(input.name);
        if (existing) throw alreadyExists(existing);
      }
      throw error;
    }
  }

  readonly getEnvironment = (name: string): Promise<Environment | null> =>
    envs.getEnvironment(this.db, name);
  readonly environmentDetail = (name: string, options: DetailOptions) =>
    environmentDetail(this.db, name, options);
  readonly listEnvironments = (labels?: Record<string, string>): Promise<Environment[]> =>
    envs.listEnvironments(this.db, labels);
  readonly pageEnvironments = (page: EnvironmentPage) => envs.pageEnvironments(this.db, page);
  readonly eachEnvironmentPage: Store['eachEnvironmentPage'] = (options, fn) =>
    envs.eachEnvironmentPage(this.db, options, fn);
  readonly listAllRows = (): Promise<Environment[]> => envs.listAllRows(this.db);
  readonly listRecords = () => listRecords(this.db);
  readonly environmentCounts = () => envs.environmentCounts(this.db);
  readonly updateEnvironment = (name: EnvName, patch: EnvironmentPatch): Promise<Environment> =>
    patch.provider === undefined
      ? envs.updateEnvironment(this.db, name, patch)
      : moveEnvironment(this.db, name, { ...patch, provider: patch.provider }, this.ranges);
  readonly deleteEnvironment = (name: EnvName): Promise<boolean> =>
    envs.deleteEnvironment(this.db, name);
  readonly importRecords = (records: EnvironmentRecord[]): Promise<ImportReport> =>
    envs.importRecords(this.db, records);

  async createOperation(input: NewOperation): Promise<Operation> {
    try {
      const id = await this.db.transaction(async (tx) => {
        const id = await insertOperation(tx, input);
        await this.enqueue?.(tx, id);
        return id;
      });
      return (await loadOperation(this.db, id)) as Operation;
    } catch (error) {
      if (pgCode(error) === '23505') throw await busyFailure(this.db, input.envName);
      throw error;
    }
  }

  readonly getOperation = (id: number): Promise<Operation | null> => loadOperation(this.db, id);
  readonly activeOperation = (envName: EnvName): Promise<Operation | null> =>
    activeOperation(this.db, envName);
  readonly latestOperation = (envName: EnvName, kind?: OperationKind): Promise<Operation | null> =>
    latestOperation(this.db, envName, kind);
  readonly listOperations = (
    filter: { envName?: EnvName; limit?: number; status?: OperationStatus[] } = {},
  ): Promise<Operation[]> => listOperations(this.db, filter);

  readonly operationCounts = (): Promise<
    { kind: OperationKind; status: OperationStatus; count: number }[]
  > => operationCounts(this.db);

  async claimOperation(id: number, owner: string, leaseMs: number): Promise<Operation | null> {
    return (await claim(this.db, id, owner, leaseMs)) ? loadOperation(this.db, id) : null;
  }

  readonly renewLease = (id: number, owner: string, leaseMs: number): Promise<boolean> =>
    renew(this.db, id, owner, leaseMs);
  readonly cancelQueued = (id: number, error: string): Promise<boolean> =>
    cancelQueued(this.db, id, error);

  releaseLease(id: number, owner: string): Promise<void> {
    return releaseLease(this.db, id, owner);
  }

  readonly saveStep = (id: number, state: StepState, op?: StepPatch): Promise<void> =>
    saveStep(this.db, id, state, op);

  async updateOperation(id: number, patch: OperationPatch): Promise<Operation> {
    await this.patchOperation(id, patch);
    return (await loadOperation(this.db, id)) as Operation;
  }

  readonly patchOperation = (id: number, patch: OperationPatch): Promise<void> =>
    patchOperation(this.db, id, patch);
  readonly cancelRequested = (id: number): Promise<boolean> => cancelRequested(this.db, id);

  readonly requestCancel = (envName: EnvName): Promise<Operation | null> =>
    requestCancel(this.db, envName);

  async reopenOperation(
    id: number,
    by?: Pick<Trigger, 'actor' | 'source' | 'via'>,
  ): Promise<Operation> {
    try {
      await this.db.transaction(async (tx) => {
        await reopen(tx, id, by);
        await this.enqueue?.(tx, id);
      });
    } catch (error) {
      if (pgCode(error) === '23505') {
        const op = await loadOperation(this.db, id);
        if (op) throw await busyFailure(this.db, op.envName);
      }
      throw error;
    }
    return (await loadOperation(this.db, id)) as Operation;
  }

  readonly pruneHistory = (options: {
    olderThan: Date | null;
    keepPerEnv: number | null;
  }): Promise<number> => pruneHistory(this.db, options);

  readonly orphanedOperations = (): Promise<Operation[]> => orphanedOperations(this.db);
  readonly admitDelivery = (keys: string[], event: string): Promise<boolean> =>
    admitDelivery(this.db, keys, event);
  readonly forgetDeliveries = (olderThanMs: number): Promise<number> =>
    forgetDeliveries(this.db, olderThanMs);
  readonly createSession = (s: ConsoleSession): Promise<void> => createSession(this.db, s);
  readonly getSession = (idHash: string): Promise<ConsoleSession | null> =>
    getSession(this.db, idHash);
  readonly deleteSession = (idHash: string): Promise<void> => deleteSession(this.db, idHash);

  readonly events = (onEvent: (event: StoreEvent) => void): Promise<() => Promise<void>> =>
    storeEvents(this.db, onEvent);

  readonly gitObjects = (ids: string[]): Promise<Map<string, string>> => gitObjects(this.db, ids);
  readonly keepGitObjects = (objects: Map<string, string>): Promise<void> =>
    keepGitObjects(this.db, objects);
  readonly getState = <S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null> =>
    states.getState(this.db, key);
  readonly getStateEntries = (key: string, names: string[]) =>
    states.getStateEntries(this.db, key, names);
  readonly setState = <S extends z.ZodType>(key: StateKey<S>, value: z.input<S>): Promise<void> =>
    states.setState(this.db, key, value);
  readonly takeState = <S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null> =>
    states.takeState(this.db, key);
  readonly forgetStates = (prefix: string, olderThan: Date): Promise<number> =>
    states.forgetStates(this.db, prefix, olderThan);
  readonly claimTurn = (name: string, everyMs: number) => states.claimTurn(this.db, name, everyMs);
  readonly putWrite = (write: NewWrite, again: boolean): Promise<WriteRecord> =>
    putWrite(this.db, write, again);
  readonly claimWrite = (
    key: string,
    owner: string,
    leaseMs: number,
  ): Promise<WriteRecord | null> => claimWrite(this.db, key, owner, leaseMs);
  readonly finishWrite = (
    key: string,
    owner: string,
    outcome: WriteOutcome,
  ): Promise<WriteRecord | null> => finishWrite(this.db, key, owner, outcome);
  readonly dueWrites = (limit: number): Promise<WriteRecord[]> => dueWrites(this.db, limit);
  readonly undeliveredWrites = (limit: number): Promise<WriteRecord[]> =>
    undeliveredWrites(this.db, limit);
  readonly forgetDeliveredWrites = (olderThanMs: number): Promise<number> =>
    forgetDeliveredWrites(this.db, olderThanMs);
  readonly renewWrite = (key: string, owner: string, leaseMs: number): Promise<boolean> =>
    renewWrite(this.db, key, owner, leaseMs);
  readonly reserveWriteTurn = (scope: string, gapMs: number): Promise<number> =>
    reserveWriteTurn(this.db, scope, gapMs);
  readonly writesHeldUntil = (scope: string): Promise<Date | null> =>
    writesHeldUntil(this.db, scope);
  readonly holdWrites = (scope: string, until: Date): Promise<void> =>
    holdWrites(this.db, scope, until);
  readonly close = (): Promise<void> => this.db.close();
}
