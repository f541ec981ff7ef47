// The audit trail's filter as a person gives it (the CLI's flags, the API's query): who
// (`actor`), which environment (`env`), since when (`since`: a duration back from now — 90m,
// 24h, 7d — or an ISO 8601 date or time, UTC unless it gives an offset), how many. Refused with
// the reason; pure.
import { checkEnvName } from '../domain/index.js';
import { parseDuration } from './duration.js';

export interface AuditQuery {
  actor: string | null;
  env: string | null;
  since: Date | null;
  limit: number;
}

export function auditQuery(
  given: {
    actor?: string | null | undefined;
    env?: string | null | undefined;
    since?: string | null | undefined;
    limit?: string | null | undefined;
  },
  now = new Date(),
): AuditQuery | { error: string } {
  const actor = given.actor?.trim() || null;
  if (actor !== null && !/^[\w.@-]{1,100}$/.test(actor))
    return { error: 'actor is a login or a user name (letters, digits, . _ @ -)' };
  let env: string | null = null;
  if (given.env) {
    const check = checkEnvName(given.env);
    if (!check.ok) return { error: `env: ${check.reason}` };
    env = check.name;
  }
  let since: Date | null = null;
  if (given.since) {
    const back = parseDuration(given.since);
    if (back.ok && back.ms !== null) since = new Date(now.getTime() - back.ms);
    else since = isoTime(given.since);
    if (!since)
      return {
        error:
          'since is a duration back from now (90m, 24h, 7d) or an ISO time (2026-12-01, ' +
          '2026-12-01T10:00Z; UTC unless it gives an offset)',
      };
  }
  const limit = Number(given.limit ?? 200);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return { error: 'limit must be a whole number from 1 to 1000' };
  return { actor, env, since, limit };
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * An ISO 8601 date or date-time, read the same on every machine: without an offset it is UTC (as
 * every time kindler shows), never the server's local time; a day or an hour that does not exist
 * (2026-02-30, 24:00) is refused, not rolled over. `Date.parse` alone took "7" for July 2001.
 */
export function isoTime(text: string): Date | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m as string[];
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac.slice(0, 4)}${zone.toUpperCase()}`);
  return Number.isNaN(at.getTime()) ? null : at;
}
