// Plain-text tables and step timelines for the terminal. Pure: strings in, strings out.
import {
  environmentUrl,
  stepDuration,
  type UrlSettings,
  type Environment,
  type Operation,
  type StepState,
  type EnvironmentHealth,
} from '../domain/index.js';
import { LOCAL_SITE, describeNodes, labelsText, spell } from '../domain/index.js';
import { hintFor, retryCommand } from '../lifecycle/hints.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function age(from: Date, now = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export const NO_ENVIRONMENTS =
  'No environments. Create one with: kindler create <name> [--provider k3d|kind]';
export const ENVIRONMENT_HEADERS = [
  ...['NAME', 'PROVIDER', 'STATUS', 'HEALTH', 'HTTP', 'HTTPS', 'PF', 'NODE_PORT', 'SUBNET'],
  ...['AGE', 'EXPIRES'],
];

/** One environment as a row of the list's table. */
export function environmentRow(
  e: Environment,
  health: EnvironmentHealth | null | undefined,
  now = new Date(),
): string[] {
  return [
    e.name,
    e.provider,
    e.status,
    health?.health ?? '-',
    String(e.httpPort),
    String(e.httpsPort),
    String(e.pfPort),
    String(e.nodePort),
    e.subnet ?? 'N/A',
    age(e.createdAt, now),
    e.pinned
      ? 'pinned'
      : e.expiresAt
        ? e.expiresAt > now
          ? `in ${age(now, e.expiresAt)}`
          : 'expired'
        : '-',
  ];
}

export function environmentsTable(
  envs: Environment[],
  health: Record<string, EnvironmentHealth> = {},
  now = new Date(),
): string {
  if (envs.length === 0) return NO_ENVIRONMENTS;
  return table(
    ENVIRONMENT_HEADERS,
    envs.map((e) => environmentRow(e, health[e.name], now)),
  );
}

/**
 * `{ ...head, [key]: [items] }` written as `JSON.stringify(…, null, 2)` would write it, an item at
 * a time: what is written is never held whole. `head`'s values come first, the array last.
 */
export function jsonArrayWriter(
  write: (text: string) => void,
  head: Record<string, unknown>,
  key: string,
) {
  const opening = JSON.stringify(head, null, 2).replace(/\n?\}$/, '');
  write(`${opening}${opening === '{' ? '' : ','}\n  ${JSON.stringify(key)}: [`);
  let count = 0;
  return {
    item(value: unknown): void {
      const text = JSON.stringify(value, null, 2).replace(/\n/g, '\n    ');
      write(`${count++ ? ',' : ''}\n    ${text}`);
    },
    end(): void {
      write(count ? '\n  ]\n}\n' : ']\n}\n');
    },
  };
}

const MARK: Record<StepState['status'], string> = {
  pending: '·',
  running: '…',
  done: '✓',
  skipped: '-',
  failed: '✗',
  warning: '!',
};

export function stepLine(step: StepState): string {
  const time = stepDuration(step);
  const text = step.status === 'failed' ? (step.error ?? 'failed') : (step.detail ?? step.status);
  return `  ${MARK[step.status]} ${step.step.padEnd(9)} ${time.padStart(8)}  ${text}`.trimEnd();
}

/** The operation in a few lines; `steps: false` when its steps were just shown live. */
export function operationSummary(op: Operation, options: { steps?: boolean } = {}): string {
  const head =
    `${op.kind} #${op.id} ${op.status}${op.trigger.actor ? ` by ${op.trigger.actor}` : ''} ` +
    `(${op.trigger.source}, started ${op.startedAt.toISOString()})`;
  const lines = [head, ...(options.steps === false ? [] : op.steps.map(stepLine))];
  if (op.status === 'failed' && op.failedStep) {
    lines.push(
      '',
      // The error itself is on the failed step's line, shown above or live: said once.
      `To resolve, ${hintFor(op.kind, op.failedStep, op.error)}, then ` +
        `run: ${spell(op.fixCommand ?? retryCommand(op.envName), 'cli')}`,
    );
  }
  return lines.join('\n');
}

export function environmentDetail(
  env: Environment,
  op: Operation | null,
  urls: UrlSettings,
  health: EnvironmentHealth | null = null,
): string {
  const lines = [
    `${env.name}  ${env.provider}  ${env.status}`,
    `  ports     http ${env.httpPort}, https ${env.httpsPort}, ` +
      `pf ${env.pfPort}, node ${env.nodePort}`,
    `  subnet    ${env.subnet ?? 'N/A'}`,
    `  nodes     ${describeNodes(env)}`,
    ...(env.site === LOCAL_SITE ? [] : [`  site      ${env.site}`]),
    `  url       ${environmentUrl(env, urls)}`,
    `  created   ${env.createdAt.toISOString()}` +
      (env.requestedBy ? ` by ${env.requestedBy}` : '') +
      (env.sourceUrl ? ` from ${env.sourceUrl}` : ''),
  ];
  if (env.expiresAt || env.pinned)
    lines.push(`  expires   ${env.pinned ? 'never (pinned)' : env.expiresAt?.toISOString()}`);
  if (Object.keys(env.labels).length) lines.push(`  labels    ${labelsText(env.labels)}`);
  if (health) {
    lines.push(`  health    ${health.health} since ${health.since}: ${health.reason}`);
    for (const p of health.parts.filter((p) => p.state !== 'skipped'))
      lines.push(
        `            ${p.system.padEnd(9)} ${p.state.padEnd(11)} ${p.detail}` +
          (p.latencyMs !== undefined ? ` (${p.latencyMs} ms)` : ''),
      );
  }
  if (op) lines.push('', operationSummary(op));
  return lines.join('\n');
}
