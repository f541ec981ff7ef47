// `--ttl 24h | 3d | 90m | never` for the CLI.
import { Failure } from '../domain/index.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  if (text === 'never') return null;
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  if (!match) throw new Failure('invalid_input', `"${text}" is not a duration; use e.g. 90m, 24h, 3d or never`);
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}
