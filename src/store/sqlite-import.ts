// Adopting upstream Kindler's current SQLite-based installation (the web UI's kindler.db,
// scripts/lib/lib_sqlite.sh): its `clusters` table is read with Node's built-in node:sqlite,
// read-only, and each row goes through the same checks as a CSV line (names, providers, ports,
// subnets). Columns the SQLite schema does not have (register_portainer, haproxy_route) take
// upstream's defaults (on). Operations history is not imported. A row upstream's reconciler marks
// `desired_state = 'absent'` is an environment on its way out: it is not imported (an imported row
// would be a live environment, and a check would offer to recreate it), and the summary names it.
import type * as NodeSqlite from 'node:sqlite';
import { z } from 'zod';
import { Failure } from '../domain/index.js';
import { CSV_HEADER, parseEnvironmentsCsv } from './csv.js';
import type { EnvironmentRecord } from './store.js';

/** A SQLite value as node:sqlite gives it; each is then checked as a CSV cell is. */
const Value = z.union([z.string(), z.number(), z.bigint(), z.null()]);
const Row = z.object({
  name: Value,
  provider: Value,
  subnet: Value,
  node_port: Value,
  pf_port: Value,
  http_port: Value,
  https_port: Value,
  desired_state: Value,
});
const Columns = z.array(z.object({ name: z.string() }));

type SqliteModule = typeof NodeSqlite;

const REQUIRED = ['name', 'provider', 'node_port', 'pf_port', 'http_port', 'https_port'];
// Upstream's defaults where a row left them empty (create_env.sh, webui/backend).
const DEFAULT_NODE_PORT: Record<string, number> = { k3d: 30080, kind: 30081 };

export async function readSqliteClusters(
  file: string,
): Promise<{ records: EnvironmentRecord[]; errors: string[]; absent: string[] }> {
  let sqlite: SqliteModule;
  try {
    sqlite = await import('node:sqlite');
  } catch {
    throw new Failure(
      'not_configured',
      `reading a SQLite database needs node:sqlite (Node.js 22.13 or ` +
        `newer); this is Node.js ${process.versions.node}`,
    );
  }
  let db: InstanceType<typeof sqlite.DatabaseSync>;
  try {
    db = new sqlite.DatabaseSync(file, { readOnly: true });
  } catch (error) {
    throw new Failure(
      'invalid_input',
      `cannot open ${file} as SQLite: ${(error as Error).message}`,
    );
  }
  try {
    const columns = new Set(
      Columns.parse(db.prepare("select name from pragma_table_info('clusters')").all()).map(
        (c) => c.name,
      ),
    );
    if (columns.size === 0)
      throw new Failure(
        'invalid_input',
        `${file} has no clusters table: is it Kindler's kindler.db?`,
      );
    const missing = REQUIRED.filter((c) => !columns.has(c));
    if (missing.length)
      throw new Failure(
        'invalid_input',
        `${file}: the clusters table lacks ${missing.join(', ')}; nothing was imported`,
      );
    const order = columns.has('id') ? 'id' : 'rowid';
    const selected = db
      .prepare(
        `select name, provider, ${columns.has('subnet') ? 'subnet' : 'null as subnet'}, ` +
          `node_port, pf_port, http_port, https_port, ` +
          `${columns.has('desired_state') ? 'desired_state' : 'null as desired_state'} ` +
          `from clusters order by ${order}`,
      )
      .all();
    // A BLOB (bytes) is no name or port: refused whole, with the row it is in.
    const checked = z.array(Row).safeParse(selected);
    if (!checked.success)
      throw new Failure(
        'invalid_input',
        `${file}: row ${Number(checked.error.issues[0]?.path[0] ?? 0) + 1} ` +
          `of the clusters table holds a value that is not text or a number ` +
          `(${checked.error.issues[0]?.path.slice(1).join('.') ?? '?'}); nothing was imported`,
      );
    const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).trim());
    const leaving = (r: (typeof checked.data)[number]) =>
      cell(r.desired_state).toLowerCase() === 'absent';
    const absent = checked.data.filter(leaving).map((r) => cell(r.name));
    const rows = checked.data.filter((r) => !leaving(r));
    // One CSV line a row, so every check is the CSV import's own.
    const lines = rows.map((r) =>
      [
        cell(r.name),
        cell(r.provider),
        cell(r.node_port) || String(DEFAULT_NODE_PORT[cell(r.provider)] ?? ''),
        cell(r.pf_port),
        'true',
        'true',
        cell(r.http_port),
        cell(r.https_port),
        cell(r.subnet),
      ].join(','),
    );
    const parsed = parseEnvironmentsCsv([CSV_HEADER, ...lines].join('\n'));
    return {
      absent,
      records: parsed.records,
      errors: parsed.errors.map((e) =>
        e.replace(
          /^line (\d+)/,
          (_m, n: string) => `row ${Number(n) - 1} (${cell(rows[Number(n) - 2]?.name)})`,
        ),
      ),
    };
  } finally {
    db.close();
  }
}
