// environment_versions: every change of an environment's configuration, append-only, numbered per
// name, with who asked, where, and the operation that applied it. A change that changes nothing is
// no version. Bounded per environment (the oldest beyond KEEP go), apart from operations' history.
import { storedConfig, type EnvironmentConfig, type EnvironmentVersion } from '../domain/index.js';
import type { Queryable } from './db.js';

/** Versions kept per environment. */
export const KEEP_VERSIONS = 200;

export interface VersionStore {
  /** Records `config` as the next version of `name`, unless it is the latest already. */
  record(
    name: string,
    config: EnvironmentConfig,
    by: { actor: string | null; via: string | null; source: string; operationId: number | null },
  ): Promise<EnvironmentVersion | null>;
  /** The newest first. */
  list(name: string, limit?: number): Promise<EnvironmentVersion[]>;
  /** The audit trail: every operation and every version, newest first, filtered. */
  audit(filter: AuditFilter): Promise<AuditEntry[]>;
}

export interface AuditFilter {
  actor?: string | null;
  env?: string | null;
  since?: Date | null;
  limit: number;
}

/** One thing that happened: an operation (with its outcome) or a version of a configuration. */
export interface AuditEntry {
  type: 'operation' | 'version';
  env: string;
  at: Date;
  actor: string | null;
  via: string | null;
  source: string;
  /** `create`, `sync`, … for an operation; `version 3` for a version. */
  what: string;
  /** An operation's status; null for a version. */
  outcome: string | null;
  operationId: number | null;
}

export interface VersionRow {
  env_name: string;
  version: number;
  at: Date;
  actor: string | null;
  actor_via: string | null;
  source: string;
  operation_id: number | null;
  config: EnvironmentConfig;
}

export const toVersion = (r: VersionRow): EnvironmentVersion => ({
  name: r.env_name,
  version: r.version,
  at: new Date(r.at),
  actor: r.actor,
  via: r.actor_via,
  source: r.source,
  operationId: r.operation_id,
  config: storedConfig(r.config),
});

export class VersionTable implements VersionStore {
  constructor(private readonly db: Queryable) {}

  async record(
    name: string,
    config: EnvironmentConfig,
    by: { actor: string | null; via: string | null; source: string; operationId: number | null },
  ): Promise<EnvironmentVersion | null> {
    const rows = await this.db.query<VersionRow>(
      `with last as (select version, config from environment_versions
                      where env_name = $1 order by version desc limit 1)
       insert into environment_versions
         (env_name, version, actor, actor_via, source, operation_id, config)
       select $1, coalesce((select version from last), 0) + 1, $2, $3, $4, $5, $6::jsonb
        where not exists (select 1 from last where config = $6::jsonb)
       on conflict do nothing
       returning *`,
      [name, by.actor, by.via, by.source, by.operationId, JSON.stringify(config)],
    );
    const made = rows[0];
    if (!made) return null;
    if (made.version > KEEP_VERSIONS)
      await this.db.query(
        'delete from environment_versions where env_name = $1 and version <= $2',
        [name, made.version - KEEP_VERSIONS],
      );
    return toVersion(made);
  }

  async audit(filter: AuditFilter): Promise<AuditEntry[]> {
    const rows = await this.db.query<AuditEntry>(
      `select * from (
         select 'operation' as type, cluster_name as env, started_at as at, actor,
                actor_via as via, trigger_source as source, operation as what,
                status as outcome, id as "operationId"
           from operations
         union all
         select 'version', env_name, at, actor, actor_via, source, 'version ' || version, null,
                operation_id
           from environment_versions
       ) a
       where ($1::text is null or actor = $1) and ($2::text is null or env = $2)
         and ($3::timestamptz is null or at >= $3)
       order by at desc, type desc, "operationId" desc nulls last limit $4`,
      [filter.actor ?? null, filter.env ?? null, filter.since ?? null, filter.limit],
    );
    return rows.map((r) => ({ ...r, at: new Date(r.at) }));
  }

  async list(name: string, limit = 50): Promise<EnvironmentVersion[]> {
    const rows = await this.db.query<VersionRow>(
      `select * from environment_versions where env_name = $1 order by version desc limit $2`,
      [name, limit],
    );
    return rows.map(toVersion);
  }
}
