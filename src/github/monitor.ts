// The reconcile loop's pass, scheduled on the queue every KINDLER_DRIFT_INTERVAL and run once among
// every replica: a consistency check; with the app and a config repository, the drift issue kept
// current; with automatic repair on (KINDLER_AUTO_REPAIR, else `auto_repair` in the config
// repository's .github/kindler.yml), the repairs requested, each reporting on the drift issue; an
// environment given up on (damped) said once on the issue, when it is given up on.
import { z } from 'zod';
import { LIMITS } from '../actions/index.js';
import type { Policy } from '../commands/policy.js';
import type { Config } from '../config/config.js';
import { checkConsistency } from '../consistency/check.js';
import { alertPayload, alertsOf, driftingSince, type Alert } from '../consistency/alerts.js';
import { spell } from '../domain/index.js';
import { autoRepair, type AutoRepair, type ReconcileResult } from '../consistency/reconcile.js';
import type { RepairDeps } from '../consistency/repair.js';
import { observeHealth, type HealthDeps } from '../consistency/health.js';
import type { Metrics } from '../server/metrics.js';
import { stateKey } from '../store/state-key.js';
import type { Logger } from '../system/log.js';
import type { GitHubTarget } from './consistency.js';
import { driftMonitor } from './drift.js';
import { defaultBranchHead, type GitHubClient } from './types.js';

export interface MonitorDeps {
  rt: RepairDeps & HealthDeps & { config: Config; log: Logger };
  metrics?: Metrics | undefined;
  /** The config repository's drift issue and policy, when the app has one. */
  github?: {
    target: () => Promise<GitHubTarget>;
    policy: (octokit: GitHubClient) => Promise<Policy>;
  };
}

/** When each environment drifting now was first seen drifting. */
const DRIFTING = stateKey('reconcile:drifting', z.record(z.string(), z.string()));

/** The environments automatic repair has given up on, as last said. */
const DAMPED = stateKey('reconcile:damped', z.array(z.string()));

export async function monitorPass(deps: MonitorDeps): Promise<ReconcileResult> {
  const { rt } = deps;
  const started = performance.now();
  const target = deps.github ? await deps.github.target() : null;
  const mode: AutoRepair =
    rt.config.KINDLER_AUTO_REPAIR ??
    (target && deps.github ? (await deps.github.policy(target.octokit)).auto_repair : 'off');
  const report = await checkConsistency(rt);
  const drift = target ? await driftMonitor(rt, target, report) : null;
  const issue = drift && !report.consistent ? drift.issue : null;
  const repo = target ? `${target.repo.owner}/${target.repo.repo}` : null;
  const result = await autoRepair(rt, report, {
    mode,
    maxPerHour: rt.config.KINDLER_AUTO_REPAIR_MAX_PER_HOUR,
    limit: LIMITS.repairsPerRequest,
    // A repair reports on the drift issue and as a check run on the config repository's head.
    ...(issue && repo && target
      ? {
          reportTo: {
            repo,
            issueNumber: issue,
            url: null,
            headSha: () => defaultBranchHead(target.octokit, target.repo),
          },
        }
      : {}),
  });
  const gaveUp = await sayGivenUp(deps, result, target, issue);
  const { changes, health } = await observeHealth(rt);
  const now = new Date();
  const drifting = driftingSince(report, (await rt.store.getState(DRIFTING)) ?? {}, now);
  await rt.store.setState(DRIFTING, drifting);
  await raise(
    deps,
    alertsOf({
      report,
      changes,
      health,
      drifting,
      gaveUp,
      driftAfterMs: rt.config.KINDLER_DRIFT_ALERT_AFTER,
      maxPerHour: rt.config.KINDLER_AUTO_REPAIR_MAX_PER_HOUR,
      now,
    }),
    target,
    issue,
  );
  // Each turn of an environment's health (its first observation is no turn).
  for (const c of changes.filter((c) => c.from !== null))
    rt.log.info(
      { env: c.name, from: c.from, to: c.to },
      `health of ${c.name}: ${c.from ?? 'new'} → ${c.to} (${c.reason})`,
    );
  const queued = result.actions.filter((a) => a.outcome === 'queued').length;
  deps.metrics?.reconciled(
    {
      drift: !report.consistent,
      queued,
      skipped: result.actions.filter((a) => a.outcome === 'skipped').length - result.damped.length,
      damped: result.damped.length,
    },
    (performance.now() - started) / 1000,
  );
  if (queued || result.damped.length)
    rt.log.info(
      { queued, damped: result.damped, mode },
      `reconcile: ${report.summary}; ${queued} repair(s) queued` +
        (result.damped.length ? `, given up on ${result.damped.join(', ')}` : ''),
    );
  return result;
}

/**
 * Says on the drift issue, once, which environments automatic repair has just given up on. The
 * comment is keyed by the issue and the names, so a pass run again after a crash says it once.
 */
async function sayGivenUp(
  { rt }: MonitorDeps,
  result: ReconcileResult,
  target: GitHubTarget | null,
  issue: number | null,
): Promise<string[]> {
  const before = new Set((await rt.store.getState(DAMPED)) ?? []);
  const fresh = result.damped.filter((name) => !before.has(name));
  if (fresh.length && target && issue) {
    const names = fresh.map((n) => `\`${n}\``).join(', ');
    const syncs = fresh.map((n) => `\`/env sync ${n}\``).join(', ');
    const max = rt.config.KINDLER_AUTO_REPAIR_MAX_PER_HOUR;
    const hour = Math.floor(Date.now() / 3_600_000);
    await target.outbox.send(
      {
        kind: 'comment',
        repo: target.repo,
        issueNumber: issue,
        body:
          `Automatic repair gave up on ${names}: repaired ${max} times in the last hour and ` +
          `still drifting. It is left to a person: ${syncs} once the cause is fixed.`,
      },
      {
        client: target.octokit,
        key: `reconcile-damped:${issue}:${fresh.join(',')}:${hour}`,
      },
    );
  }
  if (fresh.length || result.damped.length !== before.size)
    await rt.store.setState(DAMPED, result.damped);
  return fresh;
}

/**
 * Records each alert for KINDLER_NOTIFY_URL (the notifications outbox delivers it) and says it on
 * the drift issue when there is one — both keyed by the alert, so a pass run again says it once.
 * (A give-up is said on the issue by sayGivenUp already.)
 */
async function raise(
  { rt }: MonitorDeps,
  alerts: Alert[],
  target: GitHubTarget | null,
  issue: number | null,
): Promise<void> {
  const repo = target ? `${target.repo.owner}/${target.repo.repo}` : null;
  for (const alert of alerts) {
    if (rt.config.KINDLER_NOTIFY_URL) {
      const page = rt.config.KINDLER_PUBLIC_URL;
      const links = {
        console: page
          ? `${page}/kindler/environments/${encodeURIComponent(alert.environment)}`
          : null,
        issue: repo && issue ? { repo, number: issue } : null,
      };
      if (await rt.store.notifications.record(alert.key, alertPayload(alert, links)))
        rt.log.info({ alert: alert.key }, `alert: ${alert.what}`);
    }
    if (target && issue && alert.event !== 'gave_up')
      await target.outbox.send(
        {
          kind: 'comment',
          repo: target.repo,
          issueNumber: issue,
          body: `⚠ ${alert.what}. Fix: \`${spell(alert.fix, 'comment')}\``,
        },
        { client: target.octokit, key: `alert:${alert.key}` },
      );
  }
}
