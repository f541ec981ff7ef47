// The process's logger (pino): one JSON line per event on stderr by default, readable lines with
// LOG_FORMAT=pretty; the engine, the queue, the worker and the GitHub app all write here, each line
// bound to what it is about (operation and environment, delivery). Secrets are redacted from every
// line, and pino's depth and breadth limits keep a hostile object from reaching the output whole.
import pino, { type Logger } from 'pino';
import type { Redactor } from '../domain/index.js';

export type { Logger };

export interface LogSettings {
  LOG_LEVEL: pino.LevelWithSilent;
  /** Unset: readable lines on a terminal, JSON otherwise. */
  LOG_FORMAT?: 'json' | 'pretty' | undefined;
}

/** The engine's view of a logger: a level, a message and the fields of this line. */
export type LogFn = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export const logFn =
  (log: Logger): LogFn =>
  (level, message, fields) =>
    log[level](fields ?? {}, message);

export function createLogger(
  settings: LogSettings,
  redactor: Redactor,
  destination: pino.DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  const options: pino.LoggerOptions = {
    level: settings.LOG_LEVEL,
    base: { name: 'kindler' },
    // Fields are cut to a few levels and entries: a hostile object never reaches the output whole.
    formatters: { log: (fields) => bounded(fields, 0) as Record<string, unknown> },
    hooks: {
      // The message and every string field, as written: nothing that names a secret gets out.
      streamWrite: (line) => redactor.redact(line),
    },
  };
  const format = settings.LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format === 'json') return pino(options, destination);
  return pino(options, prettyStream(destination));
}

const MAX_DEPTH = 6;
const MAX_ENTRIES = 50;
const MAX_STRING = 4_000;

function bounded(value: unknown, depth: number): unknown {
  if (typeof value === 'string')
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { type: value.name, message: bounded(value.message, depth + 1), stack: value.stack };
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) return value.slice(0, MAX_ENTRIES).map((v) => bounded(v, depth + 1));
  const entries = Object.entries(value).slice(0, MAX_ENTRIES);
  return Object.fromEntries(entries.map(([k, v]) => [k, bounded(v, depth + 1)]));
}

function prettyStream(destination: pino.DestinationStream): pino.DestinationStream {
  // pino-pretty as a stream in this thread: no worker, nothing to flush at exit.
  return {
    write(line: string) {
      const value = JSON.parse(line) as Record<string, unknown>;
      const { level, time, msg, name: _name, pid: _pid, hostname: _host, ...fields } = value;
      const label = pino.levels.labels[level as number] ?? String(level);
      const rest = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      destination.write(
        `${new Date(time as number).toISOString()} ` +
          `${label.toUpperCase()} ${String(msg ?? '')}${rest}\n`,
      );
    },
  };
}
