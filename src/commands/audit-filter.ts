// The audit trail's filter as a person gives it (the CLI's flags, the API's query): who
// (`actor`), which environment (`env`), since when (`since`: a duration back from now — 90m,
// 24h, 7d — or an ISO time), how many. Refused with the reason; pure.
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
    else if (!Number.isNaN(Date.parse(given.since))) since = new Date(given.since);
    else return { error: 'since is a duration back from now (90m, 24h, 7d) or an ISO time' };
  }
  const limit = Number(given.limit ?? 200);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return { error: 'limit must be a whole number from 1 to 1000' };
  return { actor, env, since, limit };
}
