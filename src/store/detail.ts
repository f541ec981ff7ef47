// One environment as its page shows it, in one round trip: its row, its newest operations with
// their steps, its entry of a state document keyed by name (its health) and, when asked, its newest
// configuration versions — one statement that
// builds the parts as JSON, read back through the same row mappers as every other read.
import type { Queryable } from './db.js';
import type { DetailOptions, EnvironmentDetail } from './environment-store.js';
import { SELECT_CLUSTERS } from './environments.js';
import { OP_COLUMNS, STEPS_JSON } from './operations.js';
import { toVersion, type VersionRow } from './versions.js';
import {
  toEnvironment,
  toOperation,
  type ClusterRow,
  type OperationRow,
  type StepRow,
} from './rows.js';

export async function environmentDetail(
  db: Queryable,
  name: string,
  options: DetailOptions,
): Promise<EnvironmentDetail> {
  const rows = await db.query<{
    env: ClusterRow | null;
    operations: (OperationRow & { steps: StepRow[] })[] | null;
    entry: unknown;
    versions: VersionRow[] | null;
  }>(
    `select
       (select row_to_json(c) from (${SELECT_CLUSTERS} where name = $1) c) as env,
       (select json_agg(o order by o.id desc) from (
          select ${OP_COLUMNS}, ${STEPS_JSON}
            from operations where cluster_name = $1 order by id desc limit $2) o) as operations,
       (select value -> $1 from kindler_state where key = $3) as entry,
       (select json_agg(v order by v.version desc) from (
          select * from environment_versions where env_name = $1
           order by version desc limit $4) v) as versions`,
    [name, options.operations, options.entryKey, options.versions ?? 0],
  );
  const row = rows[0];
  return {
    environment: row?.env ? toEnvironment(row.env) : null,
    operations: (row?.operations ?? []).map((o) => toOperation(o, o.steps)),
    entry: row?.entry ?? null,
    versions: (row?.versions ?? []).map(toVersion),
  };
}
