// The rows of environments as the store gives them: the interface, the page asked for, a record as
// imported and a change's columns. store.ts re-exports them with the rest of the Store.
import type {
  EnvName,
  Environment,
  EnvStatus,
  NewEnvironment,
  NodeSize,
  SiteUsage,
  EnvironmentVersion,
  Operation,
} from '../domain/index.js';

/** A row as the upstream CSV / DB knows it: ports given, nothing allocated. */
export type EnvironmentRecord = Pick<
  Environment,
  | 'provider'
  | 'subnet'
  | 'nodePort'
  | 'pfPort'
  | 'httpPort'
  | 'httpsPort'
  | 'registerPortainer'
  | 'haproxyRoute'
> & {
  /** Not branded: the management cluster `devops` is a record too. */
  name: string;
};

/** A record with where the gateway reaches it (the node's IP when known): `listRecords`. */
export type RoutedRecord = EnvironmentRecord & { serverIp: string | null; site: string };

/**
 * The columns a change writes: everything but the name, the allocated host ports and who made it
 * (another `provider` has its node port and subnet allocated anew).
 */
export type EnvironmentPatch = Partial<Omit<Environment, FixedColumn>>;
type FixedColumn = 'name' | 'pfPort' | 'httpPort' | 'httpsPort' | 'requestedBy' | 'sourceUrl';

export interface ImportReport {
  imported: string[];
  /** Rows already present (kept as they are) or refused, with the reason. */
  skipped: { name: string; reason: string }[];
}

/** The rows of environments, their ports and subnets allocated by the database. */
export interface EnvironmentStore {
  /** Inserts the row (`creating`), its ports and subnet allocated; already_exists if taken. */
  insertEnvironment(input: NewEnvironment): Promise<Environment>;
  getEnvironment(name: string): Promise<Environment | null>;
  /** Its row, newest operations and entry of `entryKey`, in one round trip (its page). */
  environmentDetail(name: string, options: DetailOptions): Promise<EnvironmentDetail>;
  /** Environments ordered by creation; the management cluster (`devops`) is never included. */
  listEnvironments(labels?: Record<string, string>): Promise<Environment[]>;
  /**
   * What each site holds (placement's count): its environments, their nodes' CPUs and memory, a
   * node without a size counted at its site's default.
   */
  usageBySite(defaults: Record<string, NodeSize>): Promise<Record<string, SiteUsage>>;
  /** The same, a page at a time (one cursor), each with its entry of the document `entryKey`. */
  eachEnvironmentPage(
    options: { entryKey: string; size: number; labels?: Record<string, string> },
    fn: (page: { environment: Environment; entry: unknown }[]) => void | Promise<void>,
  ): Promise<void>;
  /**
   * One page of environments in name order, after `after` (exclusive): a list of any length is
   * read a page at a time, never rebuilt whole per request. `next` names where the next page
   * starts, null after the last.
   */
  pageEnvironments(page: EnvironmentPage): Promise<{
    environments: Environment[];
    next: string | null;
    /** The page's entries of `page.entries.key`, by name, as stored (unchecked). */
    entries: Record<string, unknown>;
  }>;
  /** Every row, the management cluster included (CSV export, allocation views). */
  listAllRows(): Promise<Environment[]>;
  /** The same rows' allocations alone, in the same order (the snapshot, the gateway). */
  listRecords(): Promise<RoutedRecord[]>;
  /** How many environments have each status (counted by the database). */
  environmentCounts(): Promise<{ status: string; count: number }[]>;
  updateEnvironment(name: EnvName, patch: EnvironmentPatch): Promise<Environment>;
  /** Removes the row; returns false when it was already gone. */
  deleteEnvironment(name: EnvName): Promise<boolean>;
  /** Adopts rows with given ports (CSV or upstream DB): existing names are kept untouched. */
  importRecords(records: EnvironmentRecord[]): Promise<ImportReport>;
}

/** A page of the environment list, optionally filtered (the console's search). */
export interface EnvironmentPage {
  after: string | null;
  limit: number;
  /** Names containing this (DNS-label characters only). */
  q?: string | null;
  status?: EnvStatus | null;
  /** Only those carrying every one of these labels. */
  labels?: Record<string, string> | null;
  /** Each row's entry of a state document keyed by name, in the same query; `where` filters. */
  entries?: { key: string; where?: { field: string; equals: string } | null } | null;
}

export interface EnvironmentDetail {
  environment: Environment | null;
  operations: Operation[];
  /** The environment's entry of the document `entryKey`, as stored (unchecked). */
  entry: unknown;
  /** Its newest configuration versions, as many as asked (none unless asked). */
  versions: EnvironmentVersion[];
}

/** How many of its newest operations, and the document its entry is read from. */
export interface DetailOptions {
  operations: number;
  entryKey: string;
  /** How many of its newest versions (none when absent). */
  versions?: number;
}
