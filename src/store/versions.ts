// environment_versions: every change of an environment's configuration, append-only, numbered per
// name, with who asked, where, and the operation that applied it. A change that changes nothing is
// no version. Bounded per environment (the oldest beyond KEEP go), apart from operations' history.
import type { EnvironmentConfig, EnvironmentVersion } from '../domain/index.js';
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
}

interface Row {
  env_name: string;
  version: number;
  at: Date;
  actor: string | null;
  actor_via: string | null;
  source: string;
  operation_id: number | null;
  config: EnvironmentConfig;
}

const toVersion = (r: Row): EnvironmentVersion => ({
  name: r.env_name,
  version: r.version,
  at: new Date(r.at),
  actor: r.actor,
  via: r.actor_via,
  source: r.source,
  operationId: r.operation_id,
  config: r.config,
});

export class VersionTable implements VersionStore {
  constructor(private readonly db: Queryable) {}

  async record(
    name: string,
    config: EnvironmentConfig,
    by: { actor: string | null; via: string | null; source: string; operationId: number | null },
  ): Promise<EnvironmentVersion | null> {
    const rows = await this.db.query<Row>(
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

  async list(name: string, limit = 50): Promise<EnvironmentVersion[]> {
    const rows = await this.db.query<Row>(
      `select * from environment_versions where env_name = $1 order by version desc limit $2`,
      [name, limit],
    );
    return rows.map(toVersion);
  }
}
