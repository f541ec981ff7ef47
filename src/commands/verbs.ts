// The `/env` verbs: what each takes, what it is for, and whether it changes anything.
import type { ConfigPatch, EnvName, ProviderName } from '../domain/index.js';

export const VERBS = [
  'create',
  'delete',
  'stop',
  'start',
  'list',
  'status',
  'check',
  'sync',
  'prune',
  'retry',
  'cancel',
  'extend',
  'update',
  'rollback',
  'history',
  'help',
] as const;
export type Verb = (typeof VERBS)[number];
export const READ_ONLY_VERBS: readonly Verb[] = ['list', 'status', 'check', 'history', 'help'];
export const isReadOnly = (verb: Verb): boolean => READ_ONLY_VERBS.includes(verb);

export type Command =
  | {
      verb: 'create';
      name: EnvName;
      provider: ProviderName;
      ttlMs?: number | null;
      registerPortainer: boolean;
      haproxyRoute: boolean;
      servers?: number;
      agents?: number;
      /** Each node's CPUs and memory (MiB); absent: the site's default. */
      nodeCpus?: number;
      nodeMemoryMib?: number;
      labels?: Record<string, string>;
      /** The site to place it on, or the labels its site must carry. */
      site?: string;
      where?: Record<string, string>;
    }
  /** `confirm`: a recreation of the cluster (another provider or node count) is meant. */
  | { verb: 'update'; name: EnvName; patch: ConfigPatch; confirm: boolean }
  /** `version` null: the one before the current. */
  | { verb: 'rollback'; name: EnvName; version: number | null; confirm: boolean }
  | { verb: 'delete' | 'stop' | 'start'; name: EnvName }
  | { verb: 'status' | 'retry' | 'cancel' | 'history'; name: EnvName }
  /** `durationMs` null: `never` (the environment is pinned). */
  | { verb: 'extend'; name: EnvName; durationMs: number | null }
  /** `labels`: only the environments carrying every one of them. */
  | { verb: 'list'; labels?: Record<string, string> }
  | { verb: 'check' }
  /** Without names: every environment that needs it. */
  | { verb: 'sync'; names?: EnvName[] }
  /** `confirm`: the id of the preview to carry out; null previews (of `names`, or every orphan). */
  | { verb: 'prune'; confirm: string | null; names?: EnvName[] }
  | { verb: 'help'; topic?: Verb }
  | BatchCommand;

/** The verbs that may be given to the environments a label selects, as one batch. */
export const BATCH_VERBS = ['delete', 'stop', 'start', 'extend', 'sync'] as const;
export type BatchVerb = (typeof BATCH_VERBS)[number];
export const isBatchVerb = (verb: Verb): verb is BatchVerb =>
  (BATCH_VERBS as readonly Verb[]).includes(verb);

/**
 * `/env delete --label team=a` previews the environments carrying every label (`durationMs`:
 * extend's); `/env delete --confirm <batch>` carries that preview out; `/env delete --cancel
 * <batch>` stops what is left of it.
 */
export interface BatchCommand {
  verb: BatchVerb;
  batch:
    | { labels: Record<string, string>; durationMs?: number | null }
    | { confirm: string }
    | { cancel: string };
}

/** A command on one environment, or on none: everything but a batch. */
export type SingleCommand = Exclude<Command, BatchCommand>;
export const isBatch = (c: Command): c is BatchCommand => 'batch' in c;

/** The command of one verb (or of each of several), the union's variants split by verb. */
export type CommandOf<V extends Verb> = OfVerb<SingleCommand, V>;

/** The members of union U whose `verb` may be V, narrowed to V (`verb: 'a' | 'b'` splits). */
export type OfVerb<U, V> = U extends { verb: infer W }
  ? V extends W
    ? Omit<U, 'verb'> & { verb: V }
    : never
  : never;

export const commandName = (c: Command): string | null => ('name' in c ? c.name : null);

export interface VerbSpec {
  args: string;
  summary: string;
  /** Flags it accepts: name → takes a value. */
  flags: Record<string, boolean>;
  needsName: boolean;
}

/**
 * A batch verb's flags: `--label` previews a batch, `--confirm <batch>` carries it out, `--cancel
 * <batch>` stops what is left of it.
 */
const BATCH_FLAGS = { label: true, confirm: true, cancel: true };
const BATCH_ARGS = '<name> | --label key=value… | --confirm <batch> | --cancel <batch>';

export const SPECS: Record<Verb, VerbSpec> = {
  create: {
    args:
      '<name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] ' +
      '[--agents N] [--cpus N] [--memory 2g] [--label key=value]… ' +
      '[--site <site> | --where key=value…]',
    summary: 'create an environment (row, branch, cluster, Portainer, Argo CD, route)',
    flags: {
      provider: true,
      ttl: true,
      'no-portainer': false,
      'no-haproxy': false,
      servers: true,
      agents: true,
      cpus: true,
      memory: true,
      label: true,
      site: true,
      where: true,
    },
    needsName: true,
  },
  delete: {
    args: BATCH_ARGS,
    summary: 'delete an environment; the row goes last',
    flags: BATCH_FLAGS,
    needsName: true,
  },
  stop: {
    args: BATCH_ARGS,
    summary: "stop the environment's cluster, keeping it (status stopped)",
    flags: BATCH_FLAGS,
    needsName: true,
  },
  start: {
    args: BATCH_ARGS,
    summary: 'start a stopped environment again and wait until it answers',
    flags: BATCH_FLAGS,
    needsName: true,
  },
  list: {
    args: '[--label key=value]…',
    summary: 'list environments (those carrying every label given)',
    flags: { label: true },
    needsName: false,
  },
  status: {
    args: '<name>',
    summary: 'show an environment and its last operation',
    flags: {},
    needsName: true,
  },
  check: {
    args: '',
    summary: 'compare the database with Git, clusters, Portainer, Argo CD and HAProxy',
    flags: {},
    needsName: false,
  },
  sync: {
    args: '[name…] | --label key=value… | --confirm <batch> | --cancel <batch>',
    summary: 'recreate what the database implies (deletes nothing)',
    flags: BATCH_FLAGS,
    needsName: false,
  },
  prune: {
    args: '[name…] [--confirm <preview>]',
    summary: 'preview orphans; --confirm <preview> archives and removes what it listed',
    flags: { confirm: true },
    needsName: false,
  },
  retry: {
    args: '<name>',
    summary: 'resume the last failed operation at its failed step',
    flags: {},
    needsName: true,
  },
  cancel: {
    args: '<name>',
    summary: 'stop the running operation after its current step',
    flags: {},
    needsName: true,
  },
  extend: {
    args:
      '<name> [duration|never] | --label key=value… [duration|never] | --confirm <batch> | ' +
      '--cancel <batch>',
    summary: 'push the expiry back (default 24h); never pins it',
    flags: BATCH_FLAGS,
    needsName: true,
  },
  update: {
    args:
      '<name> [--ttl 24h|never] [--portainer|--no-portainer] [--haproxy|--no-haproxy] ' +
      '[--provider k3d|kind] [--servers N] [--agents N] [--cpus N] [--memory 2g] ' +
      '[--label key=value|key-]… [--confirm]',
    summary:
      'change an environment in place; another provider, node count or (k3d) node memory ' +
      'recreates its cluster (--confirm)',
    flags: {
      ttl: true,
      portainer: false,
      'no-portainer': false,
      haproxy: false,
      'no-haproxy': false,
      provider: true,
      servers: true,
      agents: true,
      cpus: true,
      memory: true,
      label: true,
      confirm: false,
    },
    needsName: true,
  },
  rollback: {
    args: '<name> [version] [--confirm]',
    summary: "apply an earlier version's configuration (default: the one before) as an update",
    flags: { confirm: false },
    needsName: true,
  },
  history: {
    args: '<name>',
    summary: "an environment's configuration versions, each with what it changed",
    flags: {},
    needsName: true,
  },
  help: { args: '[verb]', summary: 'show this help', flags: {}, needsName: false },
};

export const usageLine = (verb: Verb): string =>
  `/env ${verb}${SPECS[verb].args ? ` ${SPECS[verb].args}` : ''}`;
