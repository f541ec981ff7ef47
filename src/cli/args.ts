// Argument parsing for every subcommand: node's own parseArgs, strict, with errors that say what
// was wrong and show the usage line.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { USAGE } from './help.js';
import {
  Failure,
  checkEnvName,
  isProviderName,
  type EnvName,
  type ProviderName,
} from '../domain/index.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(
  args: string[],
  options: Options,
  usage: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new Failure(
      'invalid_input',
      `${(error as Error).message.replace(/\. To specify.*$/s, '')}\nUsage: ${usage}`,
    );
  }
}

export const CSV_FILE = 'one CSV file is required';
export const SQLITE_FILE = 'one SQLite file is required';

/** The one file a command reads, or the refusal naming what is `missing`. */
export function oneFile(args: string[], usage: string, missing: string) {
  const { values, positionals } = parse(args, {}, usage);
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new Failure('invalid_input', `${missing}\nUsage: ${usage}`);
  return { values, file };
}

/** `kindler db`: anything but `status` or `stop` is refused before the configuration is read. */
export function dbArgs(args: string[]): 'status' | 'stop' {
  const [action, ...rest] = args;
  if ((action === 'status' || action === 'stop') && rest.length === 0) return action;
  throw new Failure('invalid_input', `expected "status" or "stop"\nUsage: ${USAGE.db}`);
}

/** Refuses positional arguments a command takes none of. */
export function noPositionals(positionals: string[], usage: string): void {
  if (positionals.length)
    throw new Failure('invalid_input', `unexpected argument "${positionals[0]}"\nUsage: ${usage}`);
}

export function nameArg(positionals: string[], usage: string): EnvName {
  const [raw, ...extra] = positionals;
  if (raw === undefined)
    throw new Failure('invalid_input', `an environment name is required\nUsage: ${usage}`);
  if (extra.length > 0)
    throw new Failure('invalid_input', `unexpected argument "${extra[0]}"\nUsage: ${usage}`);
  const check = checkEnvName(raw);
  if (!check.ok) throw new Failure('invalid_input', check.reason);
  return check.name;
}

export function providerArg(value: string | boolean | undefined): ProviderName {
  if (value === undefined) return 'k3d';
  if (typeof value === 'string' && isProviderName(value)) return value;
  throw new Failure(
    'invalid_input',
    `provider "${String(value)}" is not supported; use k3d or kind`,
  );
}
