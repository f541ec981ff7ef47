// Running one command: one table from command to handler, one place that turns errors into exit
// codes and readable messages. run.ts loads this only when a command is to run; the
// configuration, the store and the runtime are loaded here when needed.
import { spell, Failure, Redactor, messageOf } from '../domain/index.js';
import type { Config } from '../config/config.js';
import type { Runtime } from '../runtime.js';
import * as consistency from './consistency-commands.js';
import * as data from './data-commands.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { USAGE, type CommandName } from './help.js';
import { err, type CliIo } from './io.js';
import * as lifecycle from './lifecycle-commands.js';
import { ownerAlive } from './owner.js';
import * as read from './read-commands.js';

type Handler = (rt: Runtime, args: string[], io: CliIo) => Promise<number>;

type Direct = (config: Config, args: string[], io: CliIo) => Promise<number>;
interface Entry {
  /** Checks the arguments before anything is opened; throws the usage Failure. */
  check?: (args: string[]) => unknown;
}

/** Each command runs over the opened runtime, or `direct`ly without opening the store (it may be what is stopped). */
const COMMANDS: Record<
  CommandName,
  Entry & ({ run: Handler; direct?: never } | { direct: Direct; run?: never })
> = {
  create: {
    run: lifecycle.create,
    check: lifecycle.createArgs,
  },
  delete: {
    run: lifecycle.remove,
    check: lifecycle.nameOnly(USAGE.delete),
  },
  stop: {
    run: lifecycle.power('stop'),
    check: lifecycle.nameOnly(USAGE.stop),
  },
  start: {
    run: lifecycle.power('start'),
    check: lifecycle.nameOnly(USAGE.start),
  },
  retry: {
    run: lifecycle.retry,
    check: lifecycle.nameOnly(USAGE.retry),
  },
  cancel: {
    run: lifecycle.cancel,
    check: lifecycle.nameOnly(USAGE.cancel),
  },
  list: { run: read.list },
  status: {
    run: read.status,
  },
  check: {
    run: consistency.check,
  },
  sync: {
    run: consistency.sync,
  },
  prune: {
    run: consistency.prune,
  },
  migrate: { run: data.migrate },
  db: {
    direct: data.db,
    check: data.dbArgs,
  },
  'import-csv': {
    run: data.importCsv,
  },
  'import-sqlite': {
    run: data.importSqlite,
  },
  'export-csv': {
    run: data.exportCsv,
  },
};

/** Runs `command` (a known one) with `args`: checks, opens what it needs, reports what went wrong. */
export async function dispatch(
  command: CommandName,
  args: string[],
  io: CliIo,
  // The CLI shows its own progress: its log says only what goes wrong, unless LOG_LEVEL asks more.
  open: (config: Config) => Promise<Runtime> = async (config) => {
    const [{ openRuntime }, { createLogger }] = await Promise.all([
      import('../runtime.js'),
      import('../system/log.js'),
    ]);
    return openRuntime(config, {
      ownerAlive,
      log: createLogger(
        { ...config, LOG_LEVEL: io.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' },
        new Redactor(config.secrets),
      ),
    });
  },
): Promise<number> {
  const entry = COMMANDS[command];
  // Bad arguments are refused before anything is opened or created (exit 2, database or not).
  try {
    entry.check?.(args);
  } catch (error) {
    err(io, `kindler ${command}: ${messageOf(error)}`);
    return exitCodeFor(error);
  }
  const { ConfigError, loadConfig } = await import('../config/config.js');
  let config: Config;
  try {
    config = loadConfig(io.env, io.cwd);
  } catch (error) {
    err(io, `kindler: ${messageOf(error)}`);
    return error instanceof ConfigError ? EXIT.usage : EXIT.internal;
  }
  const redactor = new Redactor(config.secrets);
  let rt: Runtime | undefined;
  try {
    if (entry.direct) return await entry.direct(config, args, io);
    try {
      rt = await open(config);
    } catch (error) {
      const unreachable = error instanceof Failure && error.code === 'degraded';
      if (!unreachable || !(command === 'list' || command === 'status')) throw error;
      const { readSnapshot } = await import('../store/csv-snapshot.js');
      const snapshot = await readSnapshot(config.csvPath).catch(() => null);
      if (!snapshot)
        throw new Failure(
          'degraded',
          `the database is unreachable (${messageOf(error)}) and there is no CSV snapshot at ${config.csvPath}`,
        );
      return read.degradedRead(command, args, io, snapshot, messageOf(error));
    }
    // One read when the schema is current (the usual case); migrating takes a lock and DDL.
    if (command !== 'migrate' && !(await rt.store.migrationsCurrent())) await rt.store.migrate();
    return await entry.run(rt, args, io);
  } catch (error) {
    const code = exitCodeFor(error);
    const message = redactor.redact(messageOf(error));
    const fix = error instanceof Failure && error.fix ? `\nNext: ${spell(error.fix, 'cli')}` : '';
    err(io, `kindler ${command}: ${message}${fix}`);
    if (code === EXIT.internal && error instanceof Error && error.stack)
      err(io, redactor.redact(error.stack));
    return code;
  } finally {
    await rt?.close().catch(() => undefined);
  }
}
