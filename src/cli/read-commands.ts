// list and status read the store; when the database is unreachable they answer from the last CSV
// snapshot with a visible "degraded" note (and exit code 4), never pretending all is well.
import { history as historyOf } from '../actions/history.js';
import { Failure, checkEnvName, describeChanges, labelsText, notFound } from '../domain/index.js';
import { labelSet } from '../commands/update-flags.js';
import { flagMap } from './lifecycle-args.js';
import { HEALTH, healthEntry, keptHealth } from '../consistency/health.js';
import type { Runtime } from '../runtime.js';
import type { EnvironmentRecord } from '../store/store.js';
import { auditQuery } from '../commands/audit-filter.js';
import { nameArg, noPositionals, parse } from './args.js';
import { EXIT } from './exit-codes.js';
import {
  ENVIRONMENT_HEADERS,
  NO_ENVIRONMENTS,
  environmentDetail,
  environmentRow,
  jsonArrayWriter,
  table,
} from './format.js';
import { err, out, type CliIo } from './io.js';
import { AUDIT_FLAGS, LIST_FLAGS, USAGE } from './help.js';

/** What these commands use of the runtime: the store alone is opened for them. */
export type ReadDeps = Pick<Runtime, 'store' | 'urls'>;

export async function list(rt: ReadDeps, args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, LIST_FLAGS, USAGE.list);
  const selector = labelSet(flagMap(values, ['label']));
  if ('message' in selector)
    throw new Failure('invalid_input', `${selector.message}\nUsage: ${USAGE.list}`);
  // Read a page at a time through one cursor and written as read: 10,000 rows never held whole.
  const json =
    values.json === true
      ? jsonArrayWriter((text) => io.stdout.write(text), { degraded: false }, 'environments')
      : null;
  const rows: string[][] = [];
  const now = new Date();
  const filter = selector.labels ? { labels: selector.labels } : {};
  await rt.store.eachEnvironmentPage({ entryKey: HEALTH.name, size: 500, ...filter }, (page) => {
    for (const { environment, entry } of page) {
      const health = healthEntry(entry);
      if (json) json.item({ ...environment, health });
      else rows.push(environmentRow(environment, health, now));
    }
  });
  if (json) json.end();
  else if (rows.length) out(io, table(ENVIRONMENT_HEADERS, rows));
  else
    out(
      io,
      selector.labels ? `No environment carries ${labelsText(selector.labels)}.` : NO_ENVIRONMENTS,
    );
  return EXIT.ok;
}

export async function status(rt: ReadDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.status);
  const name = nameArg(positionals, USAGE.status);
  const env = await rt.store.getEnvironment(name);
  const op = await rt.store.latestOperation(name);
  if (!env && !op) throw notFound(name);
  const health = env ? ((await keptHealth(rt.store))[env.name] ?? null) : null;
  if (values.json === true) {
    out(io, JSON.stringify({ degraded: false, environment: env, operation: op, health }, null, 2));
  } else if (env) {
    out(io, environmentDetail(env, op, rt.urls, health));
  } else {
    out(
      io,
      `"${name}" no longer exists; its last operation was ${op?.kind} #${op?.id} (${op?.status}).`,
    );
  }
  return EXIT.ok;
}

/** `kindler history <name>`: the configuration's versions, newest first, with what changed. */
export async function history(rt: ReadDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, USAGE.history);
  const name = nameArg(positionals, USAGE.history);
  const outcome = await historyOf({ verb: 'history', name }, rt);
  if (values.json === true) out(io, JSON.stringify({ name, versions: outcome.versions }, null, 2));
  else if (outcome.versions.length === 0) out(io, `"${name}" has no recorded versions yet.`);
  else
    out(
      io,
      table(
        ['VERSION', 'WHEN', 'BY', 'VIA', 'WHAT CHANGED'],
        outcome.versions.map((v) => [
          String(v.version),
          v.at.toISOString(),
          v.actor ?? '-',
          v.source,
          describeChanges(v.changes, v.version === 1),
        ]),
      ),
    );
  return EXIT.ok;
}

/** `kindler audit`: every operation and version, newest first, filtered. */
export async function audit(rt: ReadDeps, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, AUDIT_FLAGS, USAGE.audit);
  noPositionals(positionals, USAGE.audit);
  const query = auditQuery({
    actor: values.actor as string | undefined,
    env: values.env as string | undefined,
    since: values.since as string | undefined,
    limit: values.limit as string | undefined,
  });
  if ('error' in query) throw new Failure('invalid_input', `${query.error}\nUsage: ${USAGE.audit}`);
  const entries = await rt.store.versions.audit(query);
  if (values.json === true) out(io, JSON.stringify({ entries }, null, 2));
  else if (entries.length === 0) out(io, 'Nothing recorded matches.');
  else
    out(
      io,
      table(
        ['WHEN', 'ENV', 'WHAT', 'OUTCOME', 'BY', 'VIA'],
        entries.map((e) => [
          e.at.toISOString(),
          e.env,
          e.operationId && e.type === 'operation' ? `${e.what} #${e.operationId}` : e.what,
          e.outcome ?? '-',
          e.actor ?? '-',
          e.source,
        ]),
      ),
    );
  return EXIT.ok;
}

/** `kindler kubeconfig <name>`: the cluster's kubeconfig on stdout (to a file, or KUBECONFIG). */
export async function kubeconfig(
  rt: ReadDeps & Pick<Runtime, 'kubeconfigFor'>,
  args: string[],
  io: CliIo,
): Promise<number> {
  const { positionals } = parse(args, {}, USAGE.kubeconfig);
  const name = nameArg(positionals, USAGE.kubeconfig);
  const env = await rt.store.getEnvironment(name);
  if (!env) throw notFound(name);
  out(io, (await rt.kubeconfigFor(env)).trimEnd());
  return EXIT.ok;
}

/** The same two commands answered from the CSV snapshot when the database cannot be reached. */
export function degradedRead(
  command: 'list' | 'status',
  args: string[],
  io: CliIo,
  snapshot: { records: EnvironmentRecord[]; writtenAt: Date | null },
  reason: string,
): number {
  const json = args.includes('--json');
  const records = snapshot.records.filter((r) => r.name !== 'devops');
  const note =
    `degraded: the database is unreachable (${reason}); showing the CSV ` +
    `snapshot from ${snapshot.writtenAt?.toISOString() ?? 'an unknown time'}`;
  let shown = records;
  if (command === 'status') {
    const raw = args.find((a) => !a.startsWith('-')) ?? '';
    const check = checkEnvName(raw);
    if (!check.ok) throw new Failure('invalid_input', check.reason);
    shown = records.filter((r) => r.name === check.name);
    if (shown.length === 0) throw new Failure('degraded', `${note}; "${check.name}" is not in it`);
  }
  if (json) {
    out(
      io,
      JSON.stringify(
        { degraded: true, reason, snapshotAt: snapshot.writtenAt, environments: shown },
        null,
        2,
      ),
    );
  } else {
    err(io, `⚠ ${note}`);
    out(
      io,
      table(
        ['NAME', 'PROVIDER', 'HTTP', 'HTTPS', 'PF', 'NODE_PORT', 'SUBNET'],
        shown.map((r) => [
          r.name,
          r.provider,
          String(r.httpPort),
          String(r.httpsPort),
          String(r.pfPort),
          String(r.nodePort),
          r.subnet ?? 'N/A',
        ]),
      ),
    );
  }
  return EXIT.degraded;
}
