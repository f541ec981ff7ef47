// The CLI dispatcher: one table from subcommand to handler, one place that turns errors into
// exit codes and readable messages. main.ts only calls this. The configuration, the store and the
// runtime are loaded when a command runs: help and --version load none of them.
import fs from 'node:fs';
import path from 'node:path';
import { spell, Failure, Redactor, messageOf } from '../domain/index.js';
import type { Config } from '../config/config.js';
import type { Runtime } from '../runtime.js';
import { packageRoot } from '../system/package-root.js';
import * as consistency from './consistency-commands.js';
import * as data from './data-commands.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { err, out, type CliIo } from './io.js';
import * as lifecycle from './lifecycle-commands.js';
import { ownerAlive } from './owner.js';
import * as read from './read-commands.js';

type Handler = (rt: Runtime, args: string[], io: CliIo) => Promise<number>;

type Direct = (config: Config, args: string[], io: CliIo) => Promise<number>;
interface Entry {
  usage: string;
  summary: string;
  readOnly?: boolean;
  /** Checks the arguments before anything is opened; throws the usage Failure. */
  check?: (args: string[]) => unknown;
}

/** Each command runs over the opened runtime, or `direct`ly without opening the store (it may be what is stopped). */
export const COMMANDS: Record<
  string,
  Entry & ({ run: Handler; direct?: never } | { direct: Direct; run?: never })
> = {
  create: {
    run: lifecycle.create,
    check: lifecycle.createArgs,
    usage: lifecycle.USAGE.create,
    summary: 'create an environment: row, branch, cluster, Portainer, Argo CD, route',
  },
  delete: {
    run: lifecycle.remove,
    check: lifecycle.nameOnly(lifecycle.USAGE.delete),
    usage: lifecycle.USAGE.delete,
    summary: 'delete an environment (the row goes last)',
  },
  retry: {
    run: lifecycle.retry,
    check: lifecycle.nameOnly(lifecycle.USAGE.retry),
    usage: lifecycle.USAGE.retry,
    summary: 'resume the last failed or interrupted operation',
  },
  cancel: {
    run: lifecycle.cancel,
    check: lifecycle.nameOnly(lifecycle.USAGE.cancel),
    usage: lifecycle.USAGE.cancel,
    summary: 'stop the running operation after its current step',
  },
  list: { run: read.list, usage: read.USAGE.list, summary: 'list environments', readOnly: true },
  status: {
    run: read.status,
    usage: read.USAGE.status,
    summary: 'show one environment and its last operation',
    readOnly: true,
  },
  check: {
    run: consistency.check,
    usage: consistency.USAGE.check,
    summary:
      'compare the database with Git, clusters, Portainer, Argo CD and HAProxy (exit 5 on differences)',
    readOnly: true,
  },
  sync: {
    run: consistency.sync,
    usage: consistency.USAGE.sync,
    summary: 'recreate what the database implies (deletes nothing)',
  },
  prune: {
    run: consistency.prune,
    usage: consistency.USAGE.prune,
    summary: 'preview orphans; with --confirm archive branches and remove the rest',
  },
  migrate: { run: data.migrate, usage: data.USAGE.migrate, summary: 'apply database migrations' },
  db: {
    direct: data.db,
    check: data.dbArgs,
    usage: data.USAGE.db,
    summary: 'the embedded PostgreSQL under the data dir: where it is, whether it runs; stop it',
  },
  'import-csv': {
    run: data.importCsv,
    usage: data.USAGE['import-csv'],
    summary: 'adopt environments from an upstream environments.csv',
  },
  'import-sqlite': {
    run: data.importSqlite,
    usage: data.USAGE['import-sqlite'],
    summary: "adopt environments from upstream Kindler's SQLite kindler.db",
  },
  'export-csv': {
    run: data.exportCsv,
    usage: data.USAGE['export-csv'],
    summary: 'write environments.csv (stdout without a file)',
    readOnly: true,
  },
};

const COLUMNS = 100;

/** `text` in lines of at most COLUMNS, the first after `lead`, the rest indented to match. */
function wrap(lead: string, text: string): string[] {
  const lines: string[] = [];
  let line = lead;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > COLUMNS && line.trim().length > 0) {
      lines.push(line.trimEnd());
      line = ' '.repeat(lead.length);
    }
    line += `${word} `;
  }
  return [...lines, line.trimEnd()];
}

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'kindler — local Kubernetes environments, database first',
    '',
    'Usage: kindler <command> [arguments]    kindler help <command> shows its arguments',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).flatMap(([name, c]) =>
      wrap(`  ${name.padEnd(width)}  `, c.summary),
    ),
    '',
    ...wrap(
      'Exit codes: ',
      Object.entries(EXIT)
        .map(([k, v]) => `${v} ${k}`)
        .join(', '),
    ),
    'Configuration: environment variables or a .env file (see README). kindler --version: the version.',
  ].join('\n');
}

/** One command's help: its usage (wrapped) and what it does. */
export function commandHelp(name: string): string {
  const entry = COMMANDS[name]!;
  return [...wrap('Usage: ', entry.usage), '', ...wrap('', entry.summary)].join('\n');
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return `kindler ${pkg.version}`;
}

export async function runCli(
  argv: string[],
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
  const [command, ...args] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    out(io, version());
    return EXIT.ok;
  }
  if (command === 'help' && args[0] && COMMANDS[args[0]]) {
    out(io, commandHelp(args[0]));
    return EXIT.ok;
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(io, helpText());
    return command ? EXIT.ok : EXIT.usage;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    err(io, `kindler: unknown command "${command}"\n\n${helpText()}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    out(io, commandHelp(command));
    return EXIT.ok;
  }
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
