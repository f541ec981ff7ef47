// Durations as people type them: 90m, 24h, 3d, 2w; "never" means no expiry.

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_MS = 365 * 86_400_000;

export type DurationParse = { ok: true; ms: number | null } | { ok: false; reason: string };

export function parseDuration(text: string): DurationParse {
  if (text === 'never') return { ok: true, ms: null };
  const match = /^(\d{1,6})([mhdw])$/.exec(text);
  if (!match)
    return {
      ok: false,
      reason: `"${text.slice(0, 40)}" is not a duration; use e.g. 90m, 24h, 3d, 2w or never`,
    };
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (ms === 0) return { ok: false, reason: 'a duration must be longer than zero' };
  if (ms > MAX_MS) return { ok: false, reason: `"${text}" is longer than the limit of 365 days` };
  return { ok: true, ms };
}

const INTERVAL_UNITS: Record<string, number> = { s: 1000, ...UNITS };

/**
 * An interval of a periodic task: 30s, 5m, 1h, 1d; "0" turns the task off (0 ms). Refused with the
 * reason when it is not one, or shorter than `minMs`.
 */
export function parseInterval(text: string, minMs = 1000): DurationParse {
  if (text.trim() === '0') return { ok: true, ms: 0 };
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!match)
    return {
      ok: false,
      reason: `"${text.slice(0, 40)}" is not an interval; use e.g. 30s, 5m, 1h, 1d, or 0 for off`,
    };
  const ms = Number(match[1]) * (INTERVAL_UNITS[match[2] as string] as number);
  if (ms !== 0 && ms < minMs)
    return { ok: false, reason: `"${text}" is shorter than ${minMs / 1000} s` };
  if (ms > MAX_MS) return { ok: false, reason: `"${text}" is longer than the limit of 365 days` };
  return { ok: true, ms };
}

export function formatDuration(ms: number): string {
  if (ms % UNITS.d! === 0) return `${ms / UNITS.d!}d`;
  if (ms % UNITS.h! === 0) return `${ms / UNITS.h!}h`;
  return `${Math.round(ms / UNITS.m!)}m`;
}
