// What the dashboard and its JSON API show, read from the store (kept by the read cache until the
// database announces a change) — or, when the database cannot be reached, from the last CSV
// snapshot with `degraded: true` and the reason. A degraded answer is never kept: the next request
// after the database is back reads it again, no restart needed.
import {
  byText,
  Failure,
  environmentUrl,
  type UrlSettings,
  type EnvName,
  type Environment,
  type Operation,
  type EnvironmentHealth,
  type Health,
} from '../domain/index.js';
import { HEALTH, healthEntries } from '../consistency/health.js';
import { SHOWN, history, withChanges, type HistoryOutcome } from '../actions/history.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import { LATEST_REPORT } from '../consistency/check.js';
import type { Runtime } from '../runtime.js';
import { readSnapshot } from '../store/csv-snapshot.js';
import type { ReadCache } from '../store/read-cache.js';
import { isUnreachable } from '../store/db.js';
import type { EnvironmentPage, EnvironmentRecord } from '../store/store.js';
import type { AuditEntry } from '../store/versions.js';
import type { AuditQuery } from '../commands/audit-filter.js';

/**
 * One environment as the API documents it. Fields the CSV snapshot lacks are null when degraded.
 */
export interface EnvironmentView {
  name: string;
  provider: string;
  status: string | null;
  httpPort: number;
  httpsPort: number;
  pfPort: number;
  nodePort: number;
  subnet: string | null;
  url: string;
  createdAt: string | null;
  expiresAt: string | null;
  pinned: boolean | null;
  /** Its labels (null from the CSV snapshot, which does not keep them). */
  labels: Record<string, string> | null;
  registerPortainer: boolean;
  haproxyRoute: boolean;
  /** Its cluster's nodes; null when read from the snapshot (which does not keep them). */
  servers: number | null;
  agents: number | null;
  /** Each node's CPUs and memory (MiB); null: no limit (or not read). */
  nodeCpus: number | null;
  nodeMemoryMib: number | null;
  /** The site (Docker host) it runs on; null when not read. */
  site: string | null;
  requestedBy: string | null;
  sourceUrl: string | null;
  /** A pull request's head the branch holds: repository, commit, since when. */
  deployed: { repo: string; sha: string; at: string } | null;
  /** How it is, as the reconcile loop last saw it; null before its first look (or degraded). */
  health: EnvironmentHealth | null;
}

/** A write to GitHub that has not been taken. */
export interface UndeliveredView {
  what: string;
  repo: string;
  operation: number | null;
  state: string;
  error: string | null;
  since: string;
  lastTried: string;
}

export interface Degradation {
  degraded: true;
  reason: string;
  snapshotAt: string | null;
}
export type Read<T> = ({ degraded: false } & T) | (Degradation & T);

export function viewOf(
  env: Environment | EnvironmentRecord,
  urls: UrlSettings,
  health: Record<string, EnvironmentHealth> = {},
): EnvironmentView {
  const full = 'status' in env ? env : null;
  return {
    name: env.name,
    provider: env.provider,
    status: full?.status ?? null,
    httpPort: env.httpPort,
    httpsPort: env.httpsPort,
    pfPort: env.pfPort,
    nodePort: env.nodePort,
    subnet: env.subnet,
    url: environmentUrl(env, urls),
    createdAt: full?.createdAt.toISOString() ?? null,
    expiresAt: full?.expiresAt?.toISOString() ?? null,
    pinned: full?.pinned ?? null,
    labels: full?.labels ?? null,
    registerPortainer: env.registerPortainer,
    haproxyRoute: env.haproxyRoute,
    servers: full?.servers ?? null,
    agents: full?.agents ?? null,
    nodeCpus: full ? full.nodeCpus : null,
    nodeMemoryMib: full ? full.nodeMemoryMib : null,
    site: full?.site ?? null,
    requestedBy: full?.requestedBy ?? null,
    sourceUrl: full?.sourceUrl ?? null,
    deployed:
      full?.source && full.deployed
        ? { repo: full.source.repo, sha: full.deployed.sha, at: full.deployed.at.toISOString() }
        : null,
    health: health[env.name] ?? null,
  };
}

/** A page of the list as asked for: where it starts, how long, what it is filtered by. */
export type ListPage = Omit<EnvironmentPage, 'names'> & { health?: Health | null };

/** Environments per page, when the request does not say. */
export const PAGE = 200;

export class DashboardData {
  constructor(
    private readonly rt: Pick<Runtime, 'config' | 'redactor' | 'store' | 'urls'>,
    /** What was read, kept until the database announces a change (none: read every time). */
    private readonly cache: ReadCache | null = null,
  ) {}

  /** `read` answered from the cache under `key` when nothing changed since (`keep`: whether to). */
  cached<T>(key: string, read: () => Promise<T>, keep?: (value: T) => boolean): Promise<T> {
    return this.cache ? this.cache.get(key, read, keep) : read();
  }

  /** One page of the environments in name order (see Store.pageEnvironments), filtered. */
  environments(
    page: ListPage = { after: null, limit: PAGE },
  ): Promise<Read<{ environments: EnvironmentView[]; next: string | null }>> {
    return this.read(
      `environments ${JSON.stringify(page)}`,
      async () => {
        // The page and each row's health in one query, filtered by health there too.
        const { health: wanted, ...rest } = page;
        const { environments, next, entries } = await this.rt.store.pageEnvironments({
          ...rest,
          entries: {
            key: HEALTH.name,
            where: wanted ? { field: 'health', equals: wanted } : null,
          },
        });
        const health = healthEntries(entries);
        return { environments: environments.map((e) => viewOf(e, this.rt.urls, health)), next };
      },
      (records) => {
        // The snapshot knows names, not status, health or labels: the name filter alone applies,
        // and a filter by labels finds nothing it could vouch for.
        const sorted = records
          .filter(() => !page.labels)
          .filter((r) => page.after === null || r.name > page.after)
          .filter((r) => !page.q || r.name.includes(page.q))
          .sort((a, b) => byText(a.name, b.name));
        const shown = sorted.slice(0, page.limit);
        return {
          environments: shown.map((r) => viewOf(r, this.rt.urls)),
          next: sorted.length > page.limit ? (shown.at(-1)?.name ?? null) : null,
        };
      },
    );
  }

  /** null when neither the database nor the snapshot knows the name. */
  async environment(
    name: string,
    options: { versions?: boolean } = {},
  ): Promise<Read<{
    environment: EnvironmentView;
    operations: Operation[];
    versions: HistoryOutcome['versions'] | null;
  }> | null> {
    const result = await this.read(
      `environment ${JSON.stringify([name, options.versions === true])}`,
      async () => {
        // Its row, operations and health in one round trip.
        const detail = await this.rt.store.environmentDetail(name, {
          operations: 20,
          entryKey: HEALTH.name,
          versions: options.versions ? SHOWN + 1 : 0,
        });
        const health = healthEntries(detail.entry === null ? {} : { [name]: detail.entry });
        const env = detail.environment;
        return {
          environment: env ? viewOf(env, this.rt.urls, health) : null,
          operations: detail.operations,
          versions: options.versions ? withChanges(detail.versions) : null,
        };
      },
      (records) => {
        const record = records.find((r) => r.name === name);
        return {
          environment: record ? viewOf(record, this.rt.urls) : null,
          operations: [],
          versions: null,
        };
      },
    );
    if (!result.environment && result.operations.length === 0) return null;
    // A deleted environment keeps its history: shown from its last operation.
    return result as Read<{
      environment: EnvironmentView;
      operations: Operation[];
      versions: HistoryOutcome['versions'] | null;
    }>;
  }

  /** The audit trail: every operation and version, newest first, as filtered. */
  async audit(query: AuditQuery): Promise<{ entries: AuditEntry[] }> {
    return { entries: await this.rt.store.versions.audit(query) };
  }

  /** An environment's configuration versions, newest first, each with what it changed. */
  async versions(name: EnvName): Promise<HistoryOutcome | null> {
    return history({ verb: 'history', name }, this.rt).catch((error: unknown) => {
      if (error instanceof Failure && error.code === 'not_found') return null;
      throw error;
    });
  }

  operations(filter: {
    envName?: string;
    limit?: number;
  }): Promise<Read<{ operations: Operation[] }>> {
    return this.read(
      `operations ${JSON.stringify(filter)}`,
      async () => ({
        operations: await this.rt.store.listOperations({
          ...(filter.envName ? { envName: filter.envName as EnvName } : {}),
          limit: filter.limit ?? 50,
        }),
      }),
      () => ({ operations: [] }),
    );
  }

  consistency(): Promise<Read<{ report: ConsistencyReport | null }>> {
    return this.read(
      'consistency',
      async () => ({
        report: await this.rt.store.getState(LATEST_REPORT),
      }),
      () => ({ report: null }),
    );
  }

  /** Writes to GitHub not taken: refused, given up, or waiting for another try (see outbox.ts). */
  undelivered(): Promise<Read<{ writes: UndeliveredView[] }>> {
    return this.read(
      'undelivered',
      async () => ({
        writes: (await this.rt.store.undeliveredWrites(50)).map((w) => ({
          what: w.kind,
          repo: w.repo,
          operation: w.operationId,
          state: w.state,
          error: w.error,
          since: w.createdAt.toISOString(),
          lastTried: w.updatedAt.toISOString(),
        })),
      }),
      () => ({ writes: [] }),
    );
  }

  /** What the database answers (kept under `key`), or the CSV snapshot's while it is down. */
  private async read<T extends object>(
    key: string,
    live: () => Promise<T>,
    fallback: (records: EnvironmentRecord[]) => T,
  ): Promise<Read<T>> {
    try {
      return { degraded: false, ...(await this.cached(key, live)) };
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      const reason = this.rt.redactor.redact(
        error instanceof Error
          ? error.message || String((error as { code?: string }).code)
          : String(error),
      );
      const snapshot = await readSnapshot(this.rt.config.csvPath).catch(() => null);
      const records = (snapshot?.records ?? []).filter((r) => r.name !== 'devops');
      return {
        degraded: true,
        reason: `the database is unreachable (${reason})`,
        snapshotAt: snapshot?.writtenAt?.toISOString() ?? null,
        ...fallback(records),
      };
    }
  }
}
