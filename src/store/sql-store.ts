// The Store over either backend: the same SQL on PostgreSQL and PGlite.
import type { z } from 'zod';
import type { StateKey } from './state-key.js';
import { forgetStates, getState, setState, takeState } from './state.js';
import {
  alreadyExists,
  isFinished,
  type EnvName,
  type Environment,
  type NewEnvironment,
  type Operation,
  type OperationKind,
  type OperationStatus,
  type StepName,
  type StepState,
  type Trigger,
} from '../domain/index.js';
import { pgCode, TxDb, type Db, type Queryable } from './db.js';
import {
  ALLOCATION_LOCK,
  DEFAULT_RANGES,
  SELECT_CLUSTERS,
  importConflict,
  importRecord,
  insertEnvironment,
  updateEnvironment,
  type AllocationRanges,
} from './environments.js';
import { migrate, migrationsCurrent } from './migrations.js';
import { PgDb } from './pg-db.js';
import { PgliteDb, type QueueConnection } from './pglite-db.js';
import { importPglite, type PgliteImport } from './pglite-import.js';
import {
  busyFailure,
  claim,
  insertOperation,
  loadOperation,
  loadOperations,
  reopen,
  renew,
  saveStep,
  updateOperation,
} from './operations.js';
import { toEnvironment, type ClusterRow } from './rows.js';
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
  reportsWanted,
  undeliveredWrites,
  type NewWrite,
  type WriteOutcome,
  type WriteRecord,
} from './writes.js';
import { StoreEvent } from './store.js';
import type {
  ConsoleSession,
  EnqueueIn,
  EnvironmentPatch,
  EnvironmentRecord,
  ImportReport,
  OperationPatch,
  Store,
} from './store.js';

export class SqlStore implements Store {
  readonly backend: Db['backend'];
  private enqueue: EnqueueIn | null = null;

  constructor(
    private readonly db: Db,
    private readonly ranges: AllocationRanges = DEFAULT_RANGES,
  ) {
    this.backend = db.backend;
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
  importPglite(dataDir: string): Promise<PgliteImport | null> {
    return importPglite(dataDir, this.db);
  }

  migrationsCurrent(): Promise<boolean> {
    return migrationsCurrent(this.db);
  }

  migrate(): Promise<string[]> {
    return migrate(this.db);
  }

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

  async getEnvironment(name: string): Promise<Environment | null> {
    const rows = await this.db.query<ClusterRow>(`${SELECT_CLUSTERS} where name = $1`, [name]);
    return rows[0] ? toEnvironment(rows[0]) : null;
  }

  async listEnvironments(): Promise<Environment[]> {
    const rows = await this.db.query<ClusterRow>(
      `${SELECT_CLUSTERS} where name <> 'devops' order by created_at, seq`,
    );
    return rows.map(toEnvironment);
  }

  async pageEnvironments(page: {
    after: string | null;
    limit: number;
  }): Promise<{ environments: Environment[]; next: string | null }> {
    const rows = await this.db.query<ClusterRow>(
      `${SELECT_CLUSTERS} where name <> 'devops' and ($1::text is null or name > $1)
       order by name limit $2`,
      [page.after, page.limit + 1],
    );
    const environments = rows.slice(0, page.limit).map(toEnvironment);
    return {
      environments,
      next: rows.length > page.limit ? (environments.at(-1)?.name ?? null) : null,
    };
  }

  async listAllRows(): Promise<Environment[]> {
    const rows = await this.db.query<ClusterRow>(
      `${SELECT_CLUSTERS} order by (name = 'devops') desc, created_at, seq`,
    );
    return rows.map(toEnvironment);
  }

  updateEnvironment(name: EnvName, patch: EnvironmentPatch): Promise<Environment> {
    return updateEnvironment(this.db, name, patch);
  }

  async deleteEnvironment(name: EnvName): Promise<boolean> {
    return (
      (await this.db.query('delete from clusters where name = $1 returning name', [name]))
        .length === 1
    );
  }

  async importRecords(records: EnvironmentRecord[]): Promise<ImportReport> {
    const report: ImportReport = { imported: [], skipped: [] };
    for (const record of records) {
      const reason = await this.db
        .transaction(async (tx) => {
          await tx.query('select pg_advisory_xact_lock($1)', [ALLOCATION_LOCK]);
          return importRecord(tx, record);
        })
        .catch((error: unknown) => {
          const conflict = importConflict(error);
          if (conflict) return conflict;
          throw error;
        });
      if (reason) report.skipped.push({ name: record.name, reason });
      else report.imported.push(record.name);
    }
    return report;
  }

  async createOperation(input: {
    envName: EnvName;
    kind: OperationKind;
    trigger: Trigger;
    /** Steps recorded as skipped from the start (nothing to do), in the same transaction. */
    skip?: readonly StepName[];
  }): Promise<Operation> {
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

  getOperation(id: number): Promise<Operation | null> {
    return loadOperation(this.db, id);
  }

  async activeOperation(envName: EnvName): Promise<Operation | null> {
    return (
      (
        await loadOperations(
          this.db,
          `where cluster_name = $1 and status in ('queued', 'running')`,
          [envName],
        )
      )[0] ?? null
    );
  }

  async latestOperation(envName: EnvName, kind?: OperationKind): Promise<Operation | null> {
    const ops = kind
      ? await loadOperations(
          this.db,
          'where cluster_name = $1 and operation = $2',
          [envName, kind],
          'order by id desc limit 1',
        )
      : await loadOperations(
          this.db,
          'where cluster_name = $1',
          [envName],
          'order by id desc limit 1',
        );
    return ops[0] ?? null;
  }

  listOperations(
    filter: { envName?: EnvName; limit?: number; status?: OperationStatus[] } = {},
  ): Promise<Operation[]> {
    return loadOperations(
      this.db,
      'where ($1::text is null or cluster_name = $1) and ($2::text[] is null or status = any($2::text[]))',
      [filter.envName ?? null, filter.status ?? null],
      `order by id desc limit ${Math.max(1, Math.min(filter.limit ?? 100, 1000))}`,
    );
  }

  operationCounts(): Promise<{ kind: OperationKind; status: OperationStatus; count: number }[]> {
    return this.db.query<{ kind: OperationKind; status: OperationStatus; count: number }>(
      'select operation as kind, status, count(*)::int as count from operations group by operation, status order by operation, status',
    );
  }

  async claimOperation(id: number, owner: string, leaseMs: number): Promise<Operation | null> {
    return (await claim(this.db, id, owner, leaseMs)) ? loadOperation(this.db, id) : null;
  }

  renewLease(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return renew(this.db, id, owner, leaseMs);
  }

  async cancelQueued(id: number, error: string): Promise<boolean> {
    const rows = await this.db.query(
      `update operations set status = 'cancelled', completed_at = now(), error_message = $2,
         updated_at = now() where id = $1 and status = 'queued' returning id`,
      [id, error],
    );
    return rows.length === 1;
  }

  async releaseLease(id: number, owner: string): Promise<void> {
    await this.db.query(
      `update operations set lease_owner = null, lease_expires_at = null where id = $1 and (lease_owner = $2 or $2 = '')`,
      [id, owner],
    );
  }

  async saveStep(id: number, state: StepState): Promise<void> {
    await saveStep(this.db, id, state);
  }

  async updateOperation(id: number, patch: OperationPatch): Promise<Operation> {
    // The end of an operation marks its reports as wanted again, in the same transaction: if the
    // process dies before reporting it, the outbox's next pass does. (Earlier states need not be:
    // a resumed operation reports again as it runs.)
    await this.db.transaction(async (tx) => {
      await updateOperation(tx, id, patch);
      if (patch.status && isFinished(patch.status)) await reportsWanted(tx, id);
    });
    return (await loadOperation(this.db, id)) as Operation;
  }

  async requestCancel(envName: EnvName): Promise<Operation | null> {
    const rows = await this.db.query<{ id: number }>(
      `update operations set cancel_requested = true, updated_at = now() where cluster_name = $1 and status in ('queued', 'running') returning id`,
      [envName],
    );
    return rows[0] ? loadOperation(this.db, rows[0].id) : null;
  }

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

  async pruneHistory(options: {
    olderThan: Date | null;
    keepPerEnv: number | null;
  }): Promise<number> {
    if (options.olderThan === null && options.keepPerEnv === null) return 0;
    const rows = await this.db.query<{ id: number }>(
      `with ranked as (
         select id, status, coalesce(completed_at, started_at) as at,
                row_number() over (partition by cluster_name order by id desc) as newest
           from operations)
       delete from operations o using ranked r
        where o.id = r.id and r.newest > 1 and r.status not in ('queued', 'running')
          -- its reports still going out to GitHub are rendered from it
          and not exists (select 1 from github_writes w
                            where w.operation_id = o.id and w.state = 'pending')
          and (($1::timestamptz is not null and r.at < $1::timestamptz)
               or ($2::int is not null and r.newest > $2::int))
       returning o.id`,
      [options.olderThan?.toISOString() ?? null, options.keepPerEnv],
    );
    await this.db.query('delete from console_sessions where expires_at < now()');
    // Git objects no deploy has used for as long: read again if they are ever needed.
    if (options.olderThan)
      await this.db.query('delete from git_objects where used_at < $1', [
        options.olderThan.toISOString(),
      ]);
    return rows.length;
  }

  orphanedOperations(): Promise<Operation[]> {
    return loadOperations(
      this.db,
      `where status = 'running' and (lease_expires_at is null or lease_expires_at < now())`,
      [],
      'order by id',
    );
  }

  async admitDelivery(keys: string[], event: string): Promise<boolean> {
    const rows = await this.db.query(
      `insert into webhook_deliveries (id, event) select unnest($1::text[]), $2
       on conflict (id) do nothing returning id`,
      [keys, event],
    );
    return rows.length === new Set(keys).size;
  }

  async forgetDeliveries(olderThanMs: number): Promise<number> {
    const rows = await this.db.query(
      `delete from webhook_deliveries
        where received_at < now() - make_interval(secs => $1::double precision / 1000) returning id`,
      [olderThanMs],
    );
    return rows.length;
  }

  async createSession(s: ConsoleSession): Promise<void> {
    await this.db.query(
      `insert into console_sessions (id_hash, login, via, csrf, expires_at) values ($1, $2, $3, $4, $5)`,
      [s.idHash, s.login, s.via, s.csrf, s.expiresAt.toISOString()],
    );
  }

  async getSession(idHash: string): Promise<ConsoleSession | null> {
    const rows = await this.db.query<{
      id_hash: string;
      login: string;
      via: string;
      csrf: string;
      expires_at: Date | string;
    }>(
      'select id_hash, login, via, csrf, expires_at from console_sessions where id_hash = $1 and expires_at > now()',
      [idHash],
    );
    const row = rows[0];
    if (!row || (row.via !== 'github' && row.via !== 'token')) return null;
    return {
      idHash: row.id_hash,
      login: row.login,
      via: row.via,
      csrf: row.csrf,
      expiresAt: new Date(row.expires_at),
    };
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.query('delete from console_sessions where id_hash = $1', [idHash]);
  }

  events(onEvent: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    return this.db.listen(
      'kindler_events',
      (payload) => {
        try {
          const parsed = StoreEvent.safeParse(JSON.parse(payload));
          if (parsed.success) onEvent(parsed.data);
        } catch {
          // Not ours (another version's shape): nothing to announce.
        }
      },
      () => onEvent({ type: 'resync' }),
    );
  }

  async gitObjects(ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows = await this.db.query<{ id: string; body: string }>(
      'update git_objects set used_at = now() where id = any($1::text[]) returning id, body',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.body]));
  }

  async keepGitObjects(objects: Map<string, string>): Promise<void> {
    if (!objects.size) return;
    await this.db.query(
      `insert into git_objects (id, body)
       select * from unnest($1::text[], $2::text[])
       on conflict (id) do update set used_at = now()`,
      [[...objects.keys()], [...objects.values()]],
    );
  }

  getState<S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null> {
    return getState(this.db, key);
  }

  setState<S extends z.ZodType>(key: StateKey<S>, value: z.input<S>): Promise<void> {
    return setState(this.db, key, value);
  }

  takeState<S extends z.ZodType>(key: StateKey<S>): Promise<z.output<S> | null> {
    return takeState(this.db, key);
  }

  forgetStates(prefix: string, olderThan: Date): Promise<number> {
    return forgetStates(this.db, prefix, olderThan);
  }

  putWrite(write: NewWrite, again: boolean): Promise<WriteRecord> {
    return putWrite(this.db, write, again);
  }

  claimWrite(key: string, owner: string, leaseMs: number): Promise<WriteRecord | null> {
    return claimWrite(this.db, key, owner, leaseMs);
  }

  finishWrite(key: string, owner: string, outcome: WriteOutcome): Promise<WriteRecord | null> {
    return finishWrite(this.db, key, owner, outcome);
  }

  dueWrites(limit: number): Promise<WriteRecord[]> {
    return dueWrites(this.db, limit);
  }

  undeliveredWrites(limit: number): Promise<WriteRecord[]> {
    return undeliveredWrites(this.db, limit);
  }

  forgetDeliveredWrites(olderThanMs: number): Promise<number> {
    return forgetDeliveredWrites(this.db, olderThanMs);
  }

  renewWrite(key: string, owner: string, leaseMs: number): Promise<boolean> {
    return renewWrite(this.db, key, owner, leaseMs);
  }

  reserveWriteTurn(scope: string, gapMs: number): Promise<number> {
    return reserveWriteTurn(this.db, scope, gapMs);
  }

  writesHeldUntil(scope: string): Promise<Date | null> {
    return writesHeldUntil(this.db, scope);
  }

  holdWrites(scope: string, until: Date): Promise<void> {
    return holdWrites(this.db, scope, until);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
