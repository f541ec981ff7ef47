// What the front ends (CLI, GitHub app, dashboard) ask of the lifecycle engine. Requests are fast
// (database only) and return the recorded operation; `execute` does the slow work, in a worker.
import type {
  ConfigPatch,
  EnvironmentConfig,
  EnvName,
  Environment,
  Operation,
  ProviderName,
  Source,
  Trigger,
} from '../domain/index.js';
import type { Command } from '../commands/verbs.js';
import type { SystemStep } from './step.js';

export interface CreateOptions {
  registerPortainer?: boolean;
  haproxyRoute?: boolean;
  /** Time to live; null or absent means no expiry. */
  ttlMs?: number | null;
  labels?: Record<string, string>;
  servers?: number;
  agents?: number;
  /** The size of each node (absent: the site's default). */
  nodeCpus?: number;
  nodeMemoryMib?: number;
  /** The site to place it on (`--site`), or the labels its site must carry (`--where`). */
  site?: string;
  where?: Record<string, string>;
  /** Render the branch from this pull request head's deploy/ instead of the templates. */
  source?: Source;
}

export type OperationRequest =
  | {
      kind: 'create';
      name: EnvName;
      provider: ProviderName;
      options?: CreateOptions;
      trigger: Trigger;
    }
  | { kind: 'delete'; name: EnvName; trigger: Trigger }
  | {
      /**
       * stop halts the cluster (status stopped); start runs it again and waits until it answers.
       */
      kind: 'stop' | 'start';
      name: EnvName;
      trigger: Trigger;
    }
  | {
      /** A newer head of the pull request: rendered onto the branch, then waited for. */
      kind: 'deploy';
      name: EnvName;
      source: Source;
      trigger: Trigger;
    }
  | {
      /** sync ensures the steps again; prune removes an orphan's leftovers from them. */
      kind: 'sync' | 'prune';
      name: EnvName;
      /** The system steps to run; the others are recorded as skipped (nothing to do). */
      steps: readonly SystemStep[];
      trigger: Trigger;
    }
  | ({
      /**
       * A changed configuration: recorded on the row and as a version, then only the steps it needs
       * run. A recreation of the cluster (another provider or node count) needs `confirm`.
       */
      kind: 'update';
      name: EnvName;
      confirm: boolean;
      trigger: Trigger;
    } & (
      | { patch: ConfigPatch }
      /** A rollback: the configuration of version `rollbackTo`, as it is to be applied. */
      | { to: EnvironmentConfig; rollbackTo: number }
    ));

/** The request a parsed lifecycle command stands for (`/env`, the console): one mapping. */
export function requestOf(
  command: Extract<Command, { verb: 'create' | 'delete' | 'stop' | 'start' }>,
  trigger: Trigger,
): OperationRequest {
  if (command.verb !== 'create') return { kind: command.verb, name: command.name, trigger };
  return {
    kind: 'create',
    name: command.name,
    provider: command.provider,
    trigger,
    options: {
      registerPortainer: command.registerPortainer,
      haproxyRoute: command.haproxyRoute,
      ttlMs: command.ttlMs === undefined ? null : command.ttlMs,
      ...definedOf(command, ['servers', 'agents', 'nodeCpus', 'nodeMemoryMib']),
      ...(command.labels ? { labels: command.labels } : {}),
      ...(command.site ? { site: command.site } : {}),
      ...(command.where ? { where: command.where } : {}),
    },
  };
}

/** The fields of `from` among `keys` that are given. */
function definedOf<T extends object, K extends keyof T>(from: T, keys: K[]): Partial<Pick<T, K>> {
  const given = keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]);
  return Object.fromEntries(given) as Partial<Pick<T, K>>;
}

/** Told about every change of an operation (step started, finished, operation done). */
export interface OperationObserver {
  onUpdate(operation: Operation, env: Environment | null): void | Promise<void>;
}

export interface EngineApi {
  /**
   * Records the request. Create inserts the row (status `creating`, ports allocated) and a queued
   * operation with `record` done; delete queues a delete operation; sync queues a sync of a ready
   * (or half-created, idle) environment; prune queues the removal of a name no row claims; deploy
   * records the newest head and queues its deploy, superseding a queued older one — while another
   * operation runs, the head is deployed when it ends, and that operation is returned. Throws
   * Failure (already_exists, not_found, busy, invalid_input) and changes nothing then.
   */
  request(request: OperationRequest): Promise<Operation>;
  /**
   * Re-queues the latest failed or cancelled operation of the environment; done steps stay done.
   */
  retry(name: EnvName, trigger: Trigger): Promise<Operation>;
  /** Asks the active operation to stop between steps; returns it, or null when nothing runs. */
  cancel(name: EnvName): Promise<Operation | null>;
  /**
   * Claims and runs an operation to its end (success, failed, cancelled) and returns its final
   * state; null when another worker holds it or it had already finished.
   */
  execute(
    operationId: number,
    options: { owner: string; signal?: AbortSignal; observer?: OperationObserver },
  ): Promise<Operation | null>;
}
