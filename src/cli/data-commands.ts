// migrate, import-csv, import-sqlite, export-csv: adopting an existing Kindler installation and
// keeping the
// upstream CSV format as a derived snapshot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Failure } from '../domain/index.js';
import type { Config } from '../config/config.js';
import type { Runtime } from '../runtime.js';
import { formatEnvironmentsCsv, parseEnvironmentsCsv } from '../store/csv.js';
import { readSqliteClusters } from '../store/sqlite-import.js';
import type { EnvironmentRecord } from '../store/store.js';
import { parse, oneFile, CSV_FILE, SQLITE_FILE, dbArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { err, out, type CliIo } from './io.js';
import { USAGE } from './help.js';

/** What these commands use of the runtime. */
type DataDeps = Pick<Runtime, 'store' | 'refreshSnapshot'>;

/**
 * The embedded PostgreSQL of the data dir: where it is and whether it runs, or stop it. It keeps
 * running after the server or a CLI call that started it ends; the next one to need it starts it.
 */
export async function db(config: Config, args: string[], io: CliIo): Promise<number> {
  const action = dbArgs(args);
  const { describeCluster, embeddedStatus, stopEmbeddedPostgres } =
    await import('../store/embedded-postgres.js');
  if (config.DATABASE_URL || config.KINDLER_DB !== 'embedded') {
    out(
      io,
      `No embedded PostgreSQL is used: ` +
        `${config.DATABASE_URL ? 'DATABASE_URL is set' : `KINDLER_DB is ${config.KINDLER_DB}`}.`,
    );
    return EXIT.ok;
  }
  if (action === 'stop') {
    const result = await stopEmbeddedPostgres(config.dataDir);
    const { cluster } = await embeddedStatus(config.dataDir);
    out(
      io,
      `${describeCluster(cluster)}: ${result === 'stopped' ? 'stopped' : 'was not running'}.`,
    );
    return EXIT.ok;
  }
  const { cluster, state, pid } = await embeddedStatus(config.dataDir);
  out(io, `${describeCluster(cluster)}: ${state}${pid ? ` (pid ${pid})` : ''}.`);
  return EXIT.ok;
}

export async function migrate(rt: DataDeps, args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {}, USAGE.migrate);
  const applied = await rt.store.migrate();
  if (values.json === true) out(io, JSON.stringify({ applied }));
  else
    out(
      io,
      applied.length ? `Applied migrations: ${applied.join(', ')}` : 'The database is up to date.',
    );
  return EXIT.ok;
}

export async function importCsv(rt: DataDeps, args: string[], io: CliIo): Promise<number> {
  const { values, file } = oneFile(args, USAGE['import-csv'], CSV_FILE);
  const text = await fs
    .readFile(path.resolve(io.cwd, file), 'utf8')
    .catch((error: NodeJS.ErrnoException) => {
      throw new Failure('invalid_input', `cannot read ${file}: ${error.code ?? error.message}`);
    });
  return adopt(rt, io, file, parseEnvironmentsCsv(text), values.json === true);
}

/** Upstream Kindler's SQLite database (the web UI's kindler.db). */
export async function importSqlite(rt: DataDeps, args: string[], io: CliIo): Promise<number> {
  const { values, file } = oneFile(args, USAGE['import-sqlite'], SQLITE_FILE);
  const target = path.resolve(io.cwd, file);
  await fs.access(target).catch((error: NodeJS.ErrnoException) => {
    throw new Failure('invalid_input', `cannot read ${file}: ${error.code ?? error.message}`);
  });
  return adopt(rt, io, file, await readSqliteClusters(target), values.json === true);
}

async function adopt(
  rt: DataDeps,
  io: CliIo,
  file: string,
  parsed: { records: EnvironmentRecord[]; errors: string[]; absent?: string[] },
  json: boolean,
): Promise<number> {
  if (parsed.errors.length > 0) {
    throw new Failure(
      'invalid_input',
      `${file} has errors; nothing was imported:\n${parsed.errors.map((e) => `  ${e}`).join('\n')}`,
    );
  }
  const report = await rt.store.importRecords(parsed.records);
  await rt.refreshSnapshot();
  const absent = parsed.absent ?? [];
  if (json) {
    out(io, JSON.stringify({ ...report, ...(parsed.absent ? { absent } : {}) }, null, 2));
  } else {
    out(io, `Imported ${report.imported.length}: ${report.imported.join(', ') || '-'}`);
    for (const s of report.skipped) err(io, `Skipped ${s.name}: ${s.reason}`);
    if (absent.length)
      out(
        io,
        `Not imported, marked absent (being ` +
          `deleted) upstream: ${absent.join(', ')}. If a cluster of theirs is left, ` +
          `\`kindler check\` ` +
          `lists it as an orphan and \`kindler prune\` removes it.`,
      );
  }
  return EXIT.ok;
}

export async function exportCsv(rt: DataDeps, args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {}, USAGE['export-csv']);
  const text = formatEnvironmentsCsv(await rt.store.listRecords());
  const file = positionals[0];
  if (!file) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  const target = path.resolve(io.cwd, file);
  await fs.writeFile(target, text, 'utf8');
  err(io, `Wrote ${target}`);
  return EXIT.ok;
}
