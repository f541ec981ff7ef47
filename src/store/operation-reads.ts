// Reading operations: the newest of an environment, the one under way, lists, counts, and those
// whose worker's lease ran out.
import type { EnvName, Operation, OperationKind, OperationStatus } from '../domain/index.js';
import type { Queryable } from './db.js';
import { loadOperations } from './operations.js';

export async function latestOperation(
  db: Queryable,
  envName: EnvName,
  kind?: OperationKind,
): Promise<Operation | null> {
  const ops = kind
    ? await loadOperations(
        db,
        'where cluster_name = $1 and operation = $2',
        [envName, kind],
        'order by id desc limit 1',
      )
    : await loadOperations(db, 'where cluster_name = $1', [envName], 'order by id desc limit 1');
  return ops[0] ?? null;
}

export async function activeOperation(db: Queryable, envName: EnvName): Promise<Operation | null> {
  return (
    (
      await loadOperations(db, `where cluster_name = $1 and status in ('queued', 'running')`, [
        envName,
      ])
    )[0] ?? null
  );
}

export function listOperations(
  db: Queryable,
  filter: { envName?: EnvName; limit?: number; status?: OperationStatus[] } = {},
): Promise<Operation[]> {
  return loadOperations(
    db,
    'where ($1::text is null or cluster_name = $1) and ($2::text[] is null or status ' +
      '= any($2::text[]))',
    [filter.envName ?? null, filter.status ?? null],
    `order by id desc limit ${Math.max(1, Math.min(filter.limit ?? 100, 1000))}`,
  );
}

export function orphanedOperations(db: Queryable): Promise<Operation[]> {
  return loadOperations(
    db,
    `where status = 'running' and (lease_expires_at is null or lease_expires_at < now())`,
    [],
    'order by id',
  );
}

export function operationCounts(
  db: Queryable,
): Promise<{ kind: OperationKind; status: OperationStatus; count: number }[]> {
  return db.query<{ kind: OperationKind; status: OperationStatus; count: number }>(
    'select operation as kind, status, count(*)::int as count from operations group by ' +
      'operation, status order by operation, status',
  );
}

export async function cancelRequested(q: Queryable, id: number): Promise<boolean> {
  const rows = await q.query<{ c: boolean }>(
    'select cancel_requested as c from operations where id = $1',
    [id],
  );
  return rows[0]?.c === true;
}
