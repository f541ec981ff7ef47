// The outbox's rows (github_writes): what was asked to be written to GitHub, and how far it got.
// A write is claimed with a lease before it is sent, so two processes never send the same one at
// once; `attempts` is raised when it is claimed, so a write claimed with attempts > 1 and no
// external id may have reached GitHub before its sender died (the outbox looks before sending).
import type { Queryable } from './db.js';

export type WriteState = 'pending' | 'delivered' | 'refused' | 'failed';

export interface WriteRecord {
  key: string;
  repo: string;
  kind: string;
  operationId: number | null;
  request: Record<string, unknown>;
  /** What GitHub named it once written: a comment id, a check run id, an issue number. */
  externalId: number | null;
  wanted: number;
  delivered: number;
  /** Claims since the last delivery (the one holding it included). */
  attempts: number;
  state: WriteState;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWrite {
  key: string;
  repo: string;
  kind: string;
  operationId?: number | null;
  request: Record<string, unknown>;
  externalId?: number | null;
}

/** How a claimed write ended. */
export type WriteOutcome =
  | {
      delivered: number;
      externalId?: number | null;
      /** The operation reported on had ended (not stored). */
      final?: boolean;
    }
  | { refused: string }
  | { failed: string; retryInMs: number; giveUp: boolean };

/** The outbox's storage (implemented by the SQL store). */
export interface WriteLog {
  /**
   * Records a write. `again`: a row with this key is asked for once more (an operation's report
   * after a change); otherwise an existing row is left as it is (a reply already recorded).
   */
  putWrite(write: NewWrite, again: boolean): Promise<WriteRecord>;
  /** Takes a write that is due (pending, more wanted than delivered, lease free) for `owner`. */
  claimWrite(key: string, owner: string, leaseMs: number): Promise<WriteRecord | null>;
  /** Ends `owner`'s claim; returns the row after it (more may have been wanted meanwhile). */
  finishWrite(key: string, owner: string, outcome: WriteOutcome): Promise<WriteRecord | null>;
  /** Pending writes whose time has come and whose lease is free, oldest first. */
  dueWrites(limit: number): Promise<WriteRecord[]>;
  /** Writes GitHub refused, gave up on, or has not taken yet after a failure; newest first. */
  undeliveredWrites(limit: number): Promise<WriteRecord[]>;
  /**
   * Forgets finished writes (delivered, refused, given up) older than `olderThanMs`; returns how
   * many.
   */
  forgetDeliveredWrites(olderThanMs: number): Promise<number>;
  /** Extends `owner`'s claim on a write it is still sending (waiting for its turn, say). */
  renewWrite(key: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Takes the next turn to write to GitHub for `scope` (an account: one installation), at least
   * `gapMs` after the turn before it and not before a limit GitHub set has passed, among every
   * process on the database. Returns how long to wait for it, in ms.
   */
  reserveWriteTurn(scope: string, gapMs: number): Promise<number>;
  /** When a limit GitHub set for `scope` ends, if one holds now. */
  writesHeldUntil(scope: string): Promise<Date | null>;
  /** Keeps every process from writing for `scope` until `until` (GitHub said to wait). */
  holdWrites(scope: string, until: Date): Promise<void>;
}

interface WriteRow {
  key: string;
  repo: string;
  kind: string;
  operation_id: number | null;
  request: Record<string, unknown>;
  external_id: number | null;
  wanted: number;
  delivered: number;
  attempts: number;
  state: WriteState;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'key, repo, kind, operation_id, request, external_id, wanted, delivered, attempts, state, ' +
  'error, created_at, updated_at';

const toRecord = (r: WriteRow): WriteRecord => ({
  key: r.key,
  repo: r.repo,
  kind: r.kind,
  operationId: r.operation_id === null ? null : Number(r.operation_id),
  request: r.request,
  externalId: r.external_id === null ? null : Number(r.external_id),
  wanted: r.wanted,
  delivered: r.delivered,
  attempts: r.attempts,
  state: r.state,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function putWrite(q: Queryable, w: NewWrite, again: boolean): Promise<WriteRecord> {
  const rows = await q.query<WriteRow>(
    `insert into github_writes (key, repo, kind, operation_id, request, external_id)
       values ($1, $2, $3, $4, $5::jsonb, $6)
     on conflict (key) do update set ${
       again
         ? `wanted = github_writes.wanted + 1, state = 'pending', error = null,
            next_attempt_at = now(), updated_at = now()`
         : 'key = github_writes.key'
     }
     returning ${COLUMNS}`,
    [w.key, w.repo, w.kind, w.operationId ?? null, JSON.stringify(w.request), w.externalId ?? null],
  );
  return toRecord(rows[0] as WriteRow);
}

export async function claimWrite(
  q: Queryable,
  key: string,
  owner: string,
  leaseMs: number,
): Promise<WriteRecord | null> {
  const rows = await q.query<WriteRow>(
    `update github_writes
        set lease_owner = $2, lease_until = now() + make_interval(secs => $3::double precision
      / 1000),
            attempts = attempts + 1, updated_at = now()
      where key = $1 and state = 'pending' and delivered < wanted
        and (lease_until is null or lease_until < now())
      returning ${COLUMNS}`,
    [key, owner, leaseMs],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function finishWrite(
  q: Queryable,
  key: string,
  owner: string,
  outcome: WriteOutcome,
): Promise<WriteRecord | null> {
  const release = 'lease_owner = null, lease_until = null, updated_at = now()';
  const [sql, params] =
    'delivered' in outcome
      ? [
          `update github_writes set delivered = greatest(delivered, $3::int),
             external_id = coalesce($4::bigint, external_id), attempts = 0, error = null,
             state = case when greatest(delivered, $3::int) >= wanted then 'delivered' else
      'pending' end,
             ${release}`,
          [outcome.delivered, outcome.externalId ?? null],
        ]
      : 'refused' in outcome
        ? [`update github_writes set state = 'refused', error = $3, ${release}`, [outcome.refused]]
        : [
            `update github_writes set error = $3,
               state = case when $5::boolean then 'failed' else 'pending' end,
               next_attempt_at = now() + make_interval(secs => $4::double
      precision / 1000), ${release}`,
            [outcome.failed, outcome.retryInMs, outcome.giveUp],
          ];
  const rows = await q.query<WriteRow>(
    `${sql} where key = $1 and lease_owner = $2 returning ${COLUMNS}`,
    [key, owner, ...params],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function dueWrites(q: Queryable, limit: number): Promise<WriteRecord[]> {
  const rows = await q.query<WriteRow>(
    `select ${COLUMNS} from github_writes
      where state = 'pending' and delivered < wanted and next_attempt_at <= now()
        and (lease_until is null or lease_until < now())
      order by id limit $1`,
    [limit],
  );
  return rows.map(toRecord);
}

export async function undeliveredWrites(q: Queryable, limit: number): Promise<WriteRecord[]> {
  const rows = await q.query<WriteRow>(
    `select ${COLUMNS} from github_writes
      where state in ('refused', 'failed') or (state = 'pending' and error is not null)
      order by updated_at desc limit $1`,
    [limit],
  );
  return rows.map(toRecord);
}

export async function forgetDeliveredWrites(q: Queryable, olderThanMs: number): Promise<number> {
  const rows = await q.query(
    `delete from github_writes where state in ('delivered', 'refused', 'failed')
        and updated_at < now() - make_interval(secs => $1::double precision / 1000) returning key`,
    [olderThanMs],
  );
  return rows.length;
}

export async function renewWrite(
  q: Queryable,
  key: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const rows = await q.query(
    `update github_writes
        set lease_until = now() + make_interval(secs => $3::double precision / 1000)
      where key = $1 and lease_owner = $2 returning key`,
    [key, owner, leaseMs],
  );
  return rows.length > 0;
}

export async function reserveWriteTurn(
  q: Queryable,
  scope: string,
  gapMs: number,
): Promise<number> {
  const rows = await q.query<{ wait_ms: number }>(
    `insert into github_limits as l (scope, next_write_at)
       values ($1, now() + make_interval(secs => $2::double precision / 1000))
     on conflict (scope) do update set next_write_at =
       greatest(l.next_write_at, l.blocked_until, now()) + make_interval(secs => $2::double
      precision / 1000)
     returning greatest(0, extract(epoch from (l.next_write_at - now())) * 1000 -
      $2)::float8 as wait_ms`,
    [scope, gapMs],
  );
  return Number(rows[0]?.wait_ms ?? 0);
}

export async function writesHeldUntil(q: Queryable, scope: string): Promise<Date | null> {
  const rows = await q.query<{ blocked_until: Date | null }>(
    `select blocked_until from github_limits where scope = $1 and blocked_until > now()`,
    [scope],
  );
  return rows[0]?.blocked_until ?? null;
}

export async function holdWrites(q: Queryable, scope: string, until: Date): Promise<void> {
  await q.query(
    `insert into github_limits as l (scope, next_write_at, blocked_until) values ($1, now(), $2)
     on conflict (scope) do update set blocked_until = greatest(l.blocked_until, $2)`,
    [scope, until],
  );
}

/**
 * Marks an operation's status comment and check run as wanted again (its state changed), creating
 * them when no report did yet — the process that recorded the command and the one that ran it may
 * both have died before reporting: the ended operation's reports are then the outbox's to send.
 * The reaction on the asking comment is recorded once the operation has ended.
 */
export async function reportsWanted(q: Queryable, operationId: number): Promise<void> {
  await q.query(
    `insert into github_writes (key, repo, kind, operation_id, request)
     select 'op:' || o.id || ':' || k.kind, o.repo, k.kind, o.id, '{}'::jsonb
       from operations o, (values ('status-comment'), ('status-check-run')) k (kind)
      where o.id = $1 and o.repo is not null
        and (k.kind = 'status-check-run'
             or (o.issue_number is not null and o.operation <> 'deploy'))
     on conflict (key) do nothing`,
    [operationId],
  );
  await q.query(
    `update github_writes set wanted = wanted + 1, state = 'pending', error = null,
            next_attempt_at = now(), updated_at = now()
      where operation_id = $1 and kind in ('status-comment', 'status-check-run')
        and state <> 'refused'`,
    [operationId],
  );
  await q.query(
    `insert into github_writes (key, repo, kind, operation_id, request)
     select 'op:' || o.id || ':reaction:' || o.attempt, w.repo, 'status-reaction', o.id, '{}'::jsonb
       from operations o join github_writes w on w.operation_id = o.id and w.kind = 'status-comment'
      where o.id = $1 and o.status in ('success', 'failed', 'cancelled')
        and o.trigger_url ~ '#issuecomment-[0-9]+$'
     on conflict (key) do nothing`,
    [operationId],
  );
}
