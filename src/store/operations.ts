// Operations and their steps. The partial unique index `operations_one_active` is the lock that
// keeps one operation per environment; leases (owner + expiry, on the database clock) let another
// worker take over an operation whose worker died. A unique violation (23505) from insert or
// reopen means "busy": the caller explains it with busyFailure, outside the failed transaction.
import {
  command,
  isFinished,
  Failure,
  NOTHING_TO_DO,
  busyFailure as busy,
  stepsFor,
  type EnvName,
  type Operation,
  type StepState,
  type Trigger,
} from '../domain/index.js';
import type { Db, Queryable } from './db.js';
import { reportsWanted } from './writes.js';
import { toOperation, type OperationRow, type StepRow } from './rows.js';
import type { NewOperation, OperationPatch, StepPatch } from './store.js';

export const OP_COLUMNS = `id, cluster_name, operation, status, log_output, started_at,
  completed_at, error_message, actor, actor_via, trigger_source, trigger_url, repo, issue_number,
  head_sha, current_step, failed_step, fix_command, cancel_requested, attempt, comment_id,
  check_run_id, deployment_id, deployment_state, change, lease_owner, lease_expires_at,
  updated_at`;

/** Each operation's steps, in order, as one JSON column of the operation's own row. */
export const STEPS_JSON = `(select coalesce(json_agg(s order by s.position), '[]'::json) from (
    select operation_id, step, position, status, started_at, completed_at, detail, error
      from operation_steps where operation_id = operations.id) s) as steps`;

/** Operations and their steps in one round trip (a worker reads one back after every step). */
export async function loadOperations(
  q: Queryable,
  where: string,
  params: unknown[],
  suffix = 'order by id desc',
): Promise<Operation[]> {
  const rows = await q.query<OperationRow & { steps: StepRow[] }>(
    `select ${OP_COLUMNS}, ${STEPS_JSON} from operations ${where} ${suffix}`,
    params,
  );
  return rows.map((r) => toOperation(r, r.steps));
}

export async function loadOperation(q: Queryable, id: number): Promise<Operation | null> {
  return (await loadOperations(q, 'where id = $1', [id]))[0] ?? null;
}

export async function insertOperation(tx: Queryable, input: NewOperation): Promise<number> {
  const t = input.trigger;
  const rows = await tx.query<{ id: number }>(
    `insert into operations (cluster_name, operation, status, actor, trigger_source,
      trigger_url, repo, issue_number, head_sha, actor_via, change, started_at, updated_at)
       values ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10::jsonb, now(), now())
       returning id`,
    [
      input.envName,
      input.kind,
      t.actor,
      t.source,
      t.url,
      t.repo,
      t.issueNumber,
      t.headSha,
      t.via ?? null,
      input.change ? JSON.stringify(input.change) : null,
    ],
  );
  const id = (rows[0] as { id: number }).id;
  // Skipped steps are recorded with the operation: no worker ever sees them pending.
  await tx.query(
    `insert into operation_steps (operation_id, step, position, status, detail, started_at,
      completed_at)
     select $1, step, ord::int,
       case when step = any($3::text[]) then 'skipped' else 'pending' end,
       case when step = any($3::text[]) then $4 end,
       case when step = any($3::text[]) then now() end,
       case when step = any($3::text[]) then now() end
     from unnest($2::text[]) with ordinality as s(step, ord)`,
    [id, [...stepsFor(input.kind)], [...(input.skip ?? [])], input.skipDetail ?? NOTHING_TO_DO],
  );
  return id;
}

/** Explains which operation holds the environment. */
export async function busyFailure(q: Queryable, envName: EnvName): Promise<Failure> {
  const active = (
    await loadOperations(q, `where cluster_name = $1 and status in ('queued', 'running')`, [
      envName,
    ])
  )[0];
  return active
    ? busy(active)
    : new Failure(
        'busy',
        `environment "${envName}" already has an operation; one operation runs at a time`,
        command('cancel', envName),
      );
}

export async function saveStep(
  q: Queryable,
  id: number,
  s: StepState,
  op: StepPatch = {},
): Promise<void> {
  // One statement: the step, and its operation's current step, log and updated_at.
  await q.query(
    `with step as (
       update operation_steps set status = $3, started_at = $4, completed_at = $5, detail = $6,
         error = $7
        where operation_id = $1 and step = $2)
     update operations set updated_at = now(),
       current_step = case when $8 then $9 else current_step end,
       log_output = case when $10 then $11 else log_output end
      where id = $1`,
    [
      id,
      s.step,
      s.status,
      s.startedAt,
      s.completedAt,
      s.detail,
      s.error,
      op.currentStep !== undefined,
      op.currentStep ?? null,
      op.logOutput !== undefined,
      op.logOutput ?? null,
    ],
  );
}

export async function updateOperation(
  q: Queryable,
  id: number,
  patch: OperationPatch,
): Promise<void> {
  const columns: [keyof OperationPatch, string][] = [
    ['status', 'status'],
    ['currentStep', 'current_step'],
    ['failedStep', 'failed_step'],
    ['error', 'error_message'],
    ['fixCommand', 'fix_command'],
    ['logOutput', 'log_output'],
    ['commentId', 'comment_id'],
    ['checkRunId', 'check_run_id'],
    ['deploymentId', 'deployment_id'],
    ['deploymentState', 'deployment_state'],
    ['completedAt', 'completed_at'],
  ];
  const params: unknown[] = [id];
  const sets = ['updated_at = now()'];
  for (const [key, column] of columns) {
    if (patch[key] === undefined) continue;
    // The next command is a value: stored as its JSON (rows.ts reads either form).
    params.push(key === 'fixCommand' && patch[key] ? JSON.stringify(patch[key]) : patch[key]);
    sets.push(`${column} = $${params.length}`);
  }
  // A finished operation holds no lease.
  if (patch.status && isFinished(patch.status))
    sets.push('lease_owner = null', 'lease_expires_at = null');
  const rows = await q.query(
    `update operations set ${sets.join(', ')} where id = $1 returning id`,
    params,
  );
  if (rows.length === 0) throw new Failure('not_found', `operation #${id} does not exist`);
}

/** When a lease taken now for $3 milliseconds ends (SQL). */
const LEASE_UNTIL = 'now() + make_interval(secs => $3::double precision / 1000)';

/** Runs a lease statement over ($1 id, $2 owner, $3 ms); true when it matched the operation. */
const leaseStatement =
  (sql: string) =>
  async (q: Queryable, id: number, owner: string, leaseMs: number): Promise<boolean> =>
    (await q.query(sql, [id, owner, leaseMs])).length === 1;

/** Takes a queued operation, or a running one whose lease ran out. */
export const claim = leaseStatement(
  `update operations set status = 'running', lease_owner = $2,
     lease_expires_at = ${LEASE_UNTIL}, updated_at = now()
   where id = $1 and (status = 'queued' or (status = 'running' and (lease_expires_at is null
      or lease_expires_at < now())))
   returning id`,
);

/** Extends the lease its owner holds. */
export const renew = leaseStatement(
  `update operations set lease_expires_at = ${LEASE_UNTIL}
   where id = $1 and lease_owner = $2 and status = 'running' returning id`,
);

export async function reopen(
  tx: Queryable,
  id: number,
  by?: Pick<Trigger, 'actor' | 'source' | 'via'>,
): Promise<void> {
  const op = await loadOperation(tx, id);
  if (!op) throw new Failure('not_found', `operation #${id} does not exist`);
  if (op.status !== 'failed' && op.status !== 'cancelled') {
    throw new Failure(
      'invalid_input',
      `operation #${id} is ${op.status}; only a failed or cancelled operation can be retried`,
    );
  }
  await tx.query(
    `update operations set status = 'queued', attempt = attempt + 1, error_message = null,
      failed_step = null,
       fix_command = null, completed_at = null, cancel_requested = false, current_step = null,
       lease_owner = null, lease_expires_at = null, updated_at = now(),
       actor = case when $2 then $3 else actor end,
       trigger_source = case when $2 then $4 else trigger_source end,
       actor_via = case when $2 then $5 else actor_via end
     where id = $1`,
    [id, by !== undefined, by?.actor ?? null, by?.source ?? null, by?.via ?? null],
  );
  await tx.query(
    `update operation_steps set status = 'pending', error = null, started_at = null,
      completed_at = null
     where operation_id = $1 and status in ('failed', 'running')`,
    [id],
  );
}

export async function pruneHistory(
  db: Queryable,
  options: {
    olderThan: Date | null;
    keepPerEnv: number | null;
  },
): Promise<number> {
  if (options.olderThan === null && options.keepPerEnv === null) return 0;
  const rows = await db.query<{ id: number }>(
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
  await db.query('delete from console_sessions where expires_at < now()');
  // Git objects no deploy has used for as long: read again if they are ever needed.
  if (options.olderThan)
    await db.query('delete from git_objects where used_at < $1', [options.olderThan.toISOString()]);
  return rows.length;
}

export async function cancelQueued(db: Queryable, id: number, error: string): Promise<boolean> {
  const rows = await db.query(
    `update operations set status = 'cancelled', completed_at = now(), error_message = $2,
       updated_at = now() where id = $1 and status = 'queued' returning id`,
    [id, error],
  );
  return rows.length === 1;
}

export async function requestCancel(db: Queryable, envName: EnvName): Promise<Operation | null> {
  const rows = await db.query<{ id: number }>(
    `update operations set cancel_requested = true, updated_at = now() where cluster_name = $1 ` +
      `and status in ('queued', 'running') returning id`,
    [envName],
  );
  return rows[0] ? loadOperation(db, rows[0].id) : null;
}

export async function releaseLease(db: Queryable, id: number, owner: string): Promise<void> {
  await db.query(
    `update operations set lease_owner = null, lease_expires_at = null where id = $1 and ` +
      `(lease_owner = $2 or $2 = '')`,
    [id, owner],
  );
}

/**
 * Writes the patch. The end of an operation marks its reports as wanted again, in the same
 * transaction: if the process dies before reporting it, the outbox's next pass does. (Earlier
 * states need not be: a resumed operation reports again as it runs.)
 */
export async function patchOperation(db: Db, id: number, patch: OperationPatch): Promise<void> {
  if (!patch.status || !isFinished(patch.status)) return updateOperation(db, id, patch);
  await db.transaction(async (tx) => {
    await updateOperation(tx, id, patch);
    await reportsWanted(tx, id);
  });
}
