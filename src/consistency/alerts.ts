// What deserves an alert, decided from one reconcile pass: an environment that turned degraded, one
// drifting longer than KINDLER_DRIFT_ALERT_AFTER, one automatic repair gave up on. Each alert is
// keyed by the change it tells (the environment, the event and when it began), so however many
// passes see it — in however many replicas — it is recorded once. Pure.
import { spell, type EnvironmentHealth, type NextCommand } from '../domain/index.js';
import type { ConsistencyReport } from './compare.js';
import type { HealthChange } from './health.js';

export interface Alert {
  key: string;
  event: 'degraded' | 'drifting' | 'gave_up';
  environment: string;
  /** What changed, in a sentence. */
  what: string;
  /** The command that fixes it. */
  fix: NextCommand;
  /** When the state it tells began (ISO). */
  since: string;
}

export interface PassFacts {
  report: ConsistencyReport;
  changes: HealthChange[];
  health: Record<string, EnvironmentHealth>;
  /** When each environment drifting now was first seen drifting (ISO), kept across passes. */
  drifting: Record<string, string>;
  /** Environments automatic repair has just given up on. */
  gaveUp: string[];
  driftAfterMs: number;
  maxPerHour: number;
  now: Date;
}

/** The fix a report names for an environment, else a look at its status. */
function fixFor(report: ConsistencyReport, name: string): NextCommand {
  return report.discrepancies.find((d) => d.name === name)?.fix ?? { verb: 'status', args: [name] };
}

/** Environments drifting now (a row whose systems lack something), with when each began. */
export function driftingSince(
  report: ConsistencyReport,
  before: Record<string, string>,
  now: Date,
): Record<string, string> {
  const drifting: Record<string, string> = {};
  for (const row of report.matrix)
    if (row.inDatabase && Object.values(row.cells).some((c) => c === 'missing' || c === 'mismatch'))
      drifting[row.name] = before[row.name] ?? now.toISOString();
  return drifting;
}

export function alertsOf(facts: PassFacts): Alert[] {
  const alerts: Alert[] = [];
  for (const c of facts.changes.filter((c) => c.to === 'degraded')) {
    const since = facts.health[c.name]?.since ?? facts.now.toISOString();
    alerts.push({
      key: `degraded:${c.name}:${since}`,
      event: 'degraded',
      environment: c.name,
      what: `${c.name} turned degraded${c.from ? ` (was ${c.from})` : ''}: ${c.reason}`,
      fix: fixFor(facts.report, c.name),
      since,
    });
  }
  for (const [name, since] of Object.entries(facts.drifting)) {
    const forMs = facts.now.getTime() - Date.parse(since);
    if (forMs < facts.driftAfterMs) continue;
    const minutes = Math.round(forMs / 60_000);
    alerts.push({
      key: `drifting:${name}:${since}`,
      event: 'drifting',
      environment: name,
      what: `${name} has drifted from the database for ${minutes} min`,
      fix: fixFor(facts.report, name),
      since,
    });
  }
  const hour = new Date(Math.floor(facts.now.getTime() / 3_600_000) * 3_600_000).toISOString();
  for (const name of facts.gaveUp)
    alerts.push({
      key: `gave_up:${name}:${hour}`,
      event: 'gave_up',
      environment: name,
      what:
        `automatic repair gave up on ${name}: repaired ${facts.maxPerHour} times in an hour ` +
        'and drifting again',
      fix: fixFor(facts.report, name),
      since: facts.now.toISOString(),
    });
  return alerts;
}

/** The JSON a receiver gets: the alert, links, and `text` for a Slack-compatible webhook. */
export function alertPayload(
  alert: Alert,
  links: { console: string | null; issue: { repo: string; number: number } | null },
): Record<string, unknown> {
  const fix = spell(alert.fix, 'cli');
  return {
    ...alert,
    fix,
    links,
    text: `⚠ kindler: ${alert.what}. Fix: \`${fix}\`${links.console ? ` — ${links.console}` : ''}`,
  };
}
