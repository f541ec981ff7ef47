// Running one command: one table from command to handler, one place that turns errors into exit
// codes and readable messages. run.ts loads this only when a command is to run; the
// configuration, the store and the runtime are loaded here when needed.
import { spell, Failure, Redactor, messageOf } from '../domain/index.js';
import type { Config } from '../config/config.js';
import type { Runtime } from '../runtime.js';
import type { BatchVerb } from '../commands/verbs.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { AUDIT_FLAGS, LIST_FLAGS, USAGE, type CommandName } from './help.js';
import { err, type CliIo } from './io.js';
import { ownerAlive } from '../system/owner.js';
import type { ReadDeps } from './read-commands.js';
import {
  CSV_FILE,
  SQLITE_FILE,
  dbArgs,
  nameArg,
  noPositionals,
  oneFile,
  parse,
  type Options,
} from './args.js';

// Each command's module is loaded when that command runs: `kindler list` loads no lifecycle.
const lifecycle = () => import('./lifecycle-commands.js');
const lifecycleArgs = () => import('./lifecycle-args.js');
const batches = () => import('./batch-commands.js');
const consistency = () => import('./consistency-commands.js');
const data = () => import('./data-commands.js');
const read = () => import('./read-commands.js');
const devops = () => import('./bootstrap-commands.js');

type Handler = (rt: Runtime, args: string[], io: CliIo) => Promise<number>;
type Direct = (config: Config, args: string[], io: CliIo) => Promise<number>;
type Read = (deps: ReadDeps, args: string[], io: CliIo) => Promise<number>;
interface Entry {
  /** Checks the arguments before anything is opened; throws the usage Failure. */
  check?: (args: string[]) => unknown;
}

/**
 * The arguments checked as the command's own handler will read them, with nothing but node's
 * parseArgs loaded: a wrong one is refused at Node's floor, before the command's module loads.
 */
const flagsOnly =
  (usage: string, options: Options = {}, names: 'any' | 'none' | 'one' | 'many' = 'any') =>
  (args: string[]) => {
    const { positionals } = parse(args, options, usage);
    if (names === 'none') noPositionals(positionals, usage);
    else if (names === 'one') nameArg(positionals, usage);
    else if (names === 'many') for (const p of positionals) nameArg([p], usage);
  };

/** `name`, run with arguments checked by nameOnly(usage) first. */
const named = (
  usage: string,
  run: (m: Awaited<ReturnType<typeof lifecycle>>) => Handler,
): Entry & { run: Handler } => ({
  run: async (rt, args, io) => run(await lifecycle())(rt, args, io),
  check: async (args) => (await lifecycleArgs()).nameOnly(usage)(args),
});

/** A verb also given to a batch: `--label …` previews one, `--confirm <batch>` carries it out. */
const batchable = (verb: BatchVerb, one: Entry & { run: Handler }): Entry & { run: Handler } => ({
  run: async (rt, args, io) =>
    (await lifecycleArgs()).isBatchArgs(args)
      ? (await batches()).batch(verb)(rt, args, io)
      : one.run(rt, args, io),
  check: async (args) => {
    const m = await lifecycleArgs();
    return m.isBatchArgs(args) ? m.batchArgs(verb, args) : one.check?.(args);
  },
});

/**
 * Each command runs over the opened runtime; a read over the store alone; `direct`ly without
 * opening the store (it may be what is stopped).
 */
const COMMANDS: Record<
  CommandName,
  Entry &
    (
      | { run: Handler; direct?: never; read?: never }
      | { direct: Direct; run?: never; read?: never }
      | { read: Read; run?: never; direct?: never }
    )
> = {
  create: {
    run: async (rt, args, io) => (await lifecycle()).create(rt, args, io),
    check: async (args) => (await lifecycleArgs()).createArgs(args),
  },
  delete: batchable(
    'delete',
    named(USAGE.delete, (m) => m.operation('delete')),
  ),
  stop: batchable(
    'stop',
    named(USAGE.stop, (m) => m.operation('stop')),
  ),
  start: batchable(
    'start',
    named(USAGE.start, (m) => m.operation('start')),
  ),
  retry: named(USAGE.retry, (m) => m.operation('retry')),
  cancel: named(USAGE.cancel, (m) => m.cancel),
  extend: batchable('extend', {
    run: async (rt, args, io) => (await lifecycle()).extend(rt, args, io),
    check: async (args) => (await lifecycleArgs()).extendArgs(args),
  }),
  update: {
    run: async (rt, args, io) => (await lifecycle()).update(rt, args, io),
    check: async (args) => (await lifecycleArgs()).updateArgs(args),
  },
  rollback: {
    run: async (rt, args, io) => (await lifecycle()).rollback(rt, args, io),
    check: async (args) => (await lifecycleArgs()).rollbackArgs(args),
  },
  list: {
    read: async (deps, args, io) => (await read()).list(deps, args, io),
    check: flagsOnly(USAGE.list, LIST_FLAGS, 'none'),
  },
  status: {
    read: async (deps, args, io) => (await read()).status(deps, args, io),
    check: flagsOnly(USAGE.status, {}, 'one'),
  },
  audit: {
    read: async (deps, args, io) => (await read()).audit(deps, args, io),
    check: flagsOnly(USAGE.audit, AUDIT_FLAGS, 'none'),
  },
  history: {
    read: async (deps, args, io) => (await read()).history(deps, args, io),
    check: flagsOnly(USAGE.history, {}, 'one'),
  },
  kubeconfig: {
    run: async (rt, args, io) => (await read()).kubeconfig(rt, args, io),
    check: flagsOnly(USAGE.kubeconfig, {}, 'one'),
  },
  check: {
    run: async (rt, args, io) => (await consistency()).check(rt, args, io),
    check: flagsOnly(USAGE.check, {}, 'none'),
  },
  sync: batchable('sync', {
    run: async (rt, args, io) => (await consistency()).sync(rt, args, io),
    check: flagsOnly(USAGE.sync, {}, 'many'),
  }),
  prune: {
    run: async (rt, args, io) => (await consistency()).prune(rt, args, io),
    check: flagsOnly(USAGE.prune, { confirm: { type: 'string' } }, 'many'),
  },
  migrate: {
    run: async (rt, args, io) => (await data()).migrate(rt, args, io),
    check: flagsOnly(USAGE.migrate, {}, 'none'),
  },
  db: {
    direct: async (config, args, io) => (await data()).db(config, args, io),
    check: dbArgs,
  },
  'import-csv': {
    run: async (rt, args, io) => (await data()).importCsv(rt, args, io),
    check: (args) => oneFile(args, USAGE['import-csv'], CSV_FILE),
  },
  'import-sqlite': {
    run: async (rt, args, io) => (await data()).importSqlite(rt, args, io),
    check: (args) => oneFile(args, USAGE['import-sqlite'], SQLITE_FILE),
  },
  'export-csv': {
    run: async (rt, args, io) => (await data()).exportCsv(rt, args, io),
    check: flagsOnly(USAGE['export-csv']),
  },
  bootstrap: {
    run: async (rt, args, io) => (await devops()).bootstrap(rt, args, io),
    check: flagsOnly(
      USAGE.bootstrap,
      { check: { type: 'boolean' }, 'show-password': { type: 'boolean' } },
      'none',
    ),
  },
  teardown: {
    run: async (rt, args, io) => (await devops()).teardown(rt, args, io),
    check: flagsOnly(USAGE.teardown, { confirm: { type: 'boolean' } }, 'none'),
  },
};

/** What a read needs: the store and how URLs are written. */
async function openReads(config: Config): Promise<ReadDeps & Pick<Runtime, 'close'>> {
  const [{ openStore }, { urlSettings }, { knownSites }] = await Promise.all([
    import('../store/open-store.js'),
    import('../config/config.js'),
    import('../store/declared-sites.js'),
  ]);
  const store = await openStore(config);
  try {
    const urls = urlSettings(config, (await knownSites(config, store)).sites);
    return { store, urls, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Runs `command` (a known one) with `args`: checks, opens what it needs, reports what went wrong.
 */
export async function dispatch(
  command: CommandName,
  args: string[],
  io: CliIo,
  // The CLI says what happened in its own lines (progress, the failure once, its hint); its log is
  // silent unless LOG_LEVEL or LOG_FORMAT asks for it.
  open: (config: Config) => Promise<Runtime> = async (config) => {
    const [{ openRuntime }, { createLogger }] = await Promise.all([
      import('../runtime.js'),
      import('../system/log.js'),
    ]);
    return openRuntime(config, {
      ownerAlive,
      // A command that changes a row writes the snapshot once, at its end (or every 10 s).
      snapshotFirstAfterMs: 10_000,
      log: createLogger(
        {
          ...config,
          LOG_LEVEL: io.env.LOG_LEVEL || io.env.LOG_FORMAT ? config.LOG_LEVEL : 'silent',
        },
        new Redactor(config.secrets),
      ),
    });
  },
): Promise<number> {
  const entry = COMMANDS[command];
  // Bad arguments are refused before anything is opened or created (exit 2, database or not).
  try {
    await entry.check?.(args);
  } catch (error) {
    err(io, `kindler ${command}: ${messageOf(error)}`);
    return exitCodeFor(error);
  }
  const [{ ConfigError, loadConfig }, { z }] = await Promise.all([
    import('../config/config.js'),
    import('zod'),
  ]);
  // A command parses each schema once or twice: zod's compiled path (code it generates on an
  // object schema's first parse) costs more than it saves here — the configuration's first parse
  // 7.9 ms with it, 2.9 ms without. The server, which parses the same schemas all day, keeps it.
  z.config({ jitless: true });
  let config: Config;
  try {
    config = loadConfig(io.env, io.cwd);
  } catch (error) {
    err(io, `kindler: ${messageOf(error)}`);
    return error instanceof ConfigError ? EXIT.usage : EXIT.internal;
  }
  const redactor = new Redactor(config.secrets);
  // A read opens the store alone; everything else the whole runtime.
  let reads: (ReadDeps & Pick<Runtime, 'close'>) | undefined;
  let rt: Runtime | undefined;
  try {
    if (entry.direct) return await entry.direct(config, args, io);
    try {
      if (entry.read) reads = await openReads(config);
      else rt = await open(config);
    } catch (error) {
      const unreachable = error instanceof Failure && error.code === 'degraded';
      if (!unreachable || !(command === 'list' || command === 'status')) throw error;
      const { readSnapshot } = await import('../store/csv-snapshot.js');
      const snapshot = await readSnapshot(config.csvPath).catch(() => null);
      if (!snapshot)
        throw new Failure(
          'degraded',
          `the database is unreachable (${messageOf(error)}) ` +
            `and there is no CSV snapshot at ${config.csvPath}`,
        );
      return (await read()).degradedRead(command, args, io, snapshot, messageOf(error));
    }
    // One read when the schema is current (the usual case); migrating takes a lock and DDL.
    const store = (reads ?? rt)?.store;
    if (store && command !== 'migrate' && !(await store.migrationsCurrent())) await store.migrate();
    if (entry.read && reads) return await entry.read(reads, args, io);
    if (entry.run && rt) return await entry.run(rt, args, io);
    throw new Error(`kindler ${command}: nothing was opened to run it`);
  } catch (error) {
    const code = exitCodeFor(error);
    const message = redactor.redact(messageOf(error));
    const fix = error instanceof Failure && error.fix ? `\nNext: ${spell(error.fix, 'cli')}` : '';
    err(io, `kindler ${command}: ${message}${fix}`);
    if (code === EXIT.internal && error instanceof Error && error.stack)
      err(io, redactor.redact(error.stack));
    return code;
  } finally {
    await (reads ?? rt)?.close().catch(() => undefined);
  }
}
