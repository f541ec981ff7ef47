// Argument parsing for every subcommand: node's own parseArgs, strict, with errors that say what
// was wrong and show the usage line.
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
