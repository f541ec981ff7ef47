// Database rows → domain values. Column names are contracts (upstream and ours).
import { z } from 'zod';
import {
  LOCAL_SITE,
  CREATE_STEPS,
  ENV_STATUSES,
  DEPLOYMENT_STATES,
  OPERATION_KINDS,
  OPERATION_STATUSES,
  STEP_STATUSES,
  TRIGGER_SOURCES,
  ACTOR_VIAS,
  asNextCommand,
  envName,
  stepsFor,
  storedConfig,
  type EnvName,
  type EnvStatus,
  type Environment,
  type Operation,
  type OperationChange,
  type ProviderName,
  type StepState,
  type Trigger,
} from '../domain/index.js';

/**
 * An environment's labels as stored: a JSON object of strings (none when absent). Checked by hand:
 * it is read for every row of every listing (a schema library's parse cost more than the rest).
 */
function labelsOf(raw: unknown): Record<string, string> {
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TypeError('labels must be an object of strings');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TypeError(`label "${key}" must be a string`);
    out[key] = v;
  }
  return out;
}

export interface ClusterRow {
  name: string;
  provider: string;
  subnet: string | null;
  node_port: number;
  pf_port: number;
  http_port: number;
  https_port: number;
  server_ip: string | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
  status: string;
  register_portainer: boolean;
  haproxy_route: boolean;
  servers?: number | null;
  agents?: number | null;
  requested_by: string | null;
  source_url: string | null;
  expires_at: Date | string | null;
  pinned: boolean;
  labels: Record<string, string> | string | null;
  source_repo: string | null;
  source_sha: string | null;
  source_actor: string | null;
  deployed_sha: string | null;
  deployed_tree: string | null;
  deployed_at: Date | string | null;
  /** Absent in rows read from before migration 014 (an import's). */
  site?: string | null;
  /** Absent before migration 015. */
  node_cpus?: number | string | null;
  node_memory_mib?: number | null;
}

const date = (v: Date | string | null): Date | null =>
  v === null ? null : v instanceof Date ? v : new Date(v);

export function toEnvironment(row: ClusterRow): Environment {
  return {
    // Rows come from our own writes or an upstream database; `devops` is kept as it is.
    name: (row.name === 'devops' ? row.name : envName(row.name)) as EnvName,
    provider: row.provider as ProviderName,
    subnet: row.subnet,
    nodePort: row.node_port,
    pfPort: row.pf_port,
    httpPort: row.http_port,
    httpsPort: row.https_port,
    serverIp: row.server_ip,
    status: (ENV_STATUSES as readonly string[]).includes(row.status)
      ? (row.status as EnvStatus)
      : 'ready',
    registerPortainer: row.register_portainer,
    haproxyRoute: row.haproxy_route,
    servers: row.servers ?? 1,
    agents: row.agents ?? 0,
    nodeCpus: row.node_cpus == null ? null : Number(row.node_cpus),
    nodeMemoryMib: row.node_memory_mib ?? null,
    requestedBy: row.requested_by,
    sourceUrl: row.source_url,
    expiresAt: date(row.expires_at),
    pinned: row.pinned,
    labels: labelsOf(row.labels),
    site: row.site ?? LOCAL_SITE,
    source:
      row.source_repo && row.source_sha
        ? { repo: row.source_repo, sha: row.source_sha, by: row.source_actor }
        : null,
    deployed:
      row.deployed_sha && row.deployed_tree
        ? {
            sha: row.deployed_sha,
            tree: row.deployed_tree,
            at: date(row.deployed_at) ?? new Date(0),
          }
        : null,
    createdAt: date(row.created_at) ?? new Date(0),
    updatedAt: date(row.updated_at) ?? new Date(0),
  };
}

export interface OperationRow {
  id: number;
  cluster_name: string;
  operation: string;
  status: string;
  log_output: string | null;
  started_at: Date | string;
  completed_at: Date | string | null;
  error_message: string | null;
  actor: string | null;
  actor_via: string | null;
  trigger_source: string;
  trigger_url: string | null;
  repo: string | null;
  issue_number: number | null;
  head_sha: string | null;
  current_step: string | null;
  failed_step: string | null;
  fix_command: string | null;
  cancel_requested: boolean;
  attempt: number;
  comment_id: number | string | null;
  check_run_id: number | string | null;
  deployment_id: number | string | null;
  deployment_state: string | null;
  change?: OperationChange | string | null;
  lease_owner: string | null;
  lease_expires_at: Date | string | null;
  updated_at: Date | string;
}

export interface StepRow {
  operation_id: number;
  step: string;
  position: number;
  status: string;
  started_at: Date | string | null;
  completed_at: Date | string | null;
  detail: string | null;
  error: string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

// The enumerated columns, checked when read: a value this version does not know is an error that
// names it, not a cast.
const Kind = z.enum(OPERATION_KINDS);
const Status = z.enum(OPERATION_STATUSES);
const Source = z.enum(TRIGGER_SOURCES);
const Via = z.enum(ACTOR_VIAS).nullable();
const StepStatusColumn = z.enum(STEP_STATUSES);
const Step = z.enum(CREATE_STEPS).nullable();
const DeploymentStateColumn = z.enum(DEPLOYMENT_STATES).nullable();

/** An update's recorded change, its configurations read as stored ones (defaults filled in). */
function changeOf(raw: OperationChange | string | null | undefined): OperationChange | null {
  if (raw === null || raw === undefined) return null;
  const c = (typeof raw === 'string' ? JSON.parse(raw) : raw) as OperationChange;
  return { ...c, from: storedConfig(c.from), to: storedConfig(c.to) };
}

export function toOperation(row: OperationRow, steps: StepRow[]): Operation {
  const kind = Kind.parse(row.operation);
  const byStep = new Map(steps.map((s) => [s.step, s]));
  const trigger: Trigger = {
    source: Source.parse(row.trigger_source),
    actor: row.actor,
    ...(row.actor_via === null ? {} : { via: Via.parse(row.actor_via) }),
    url: row.trigger_url,
    repo: row.repo,
    issueNumber: row.issue_number,
    headSha: row.head_sha,
  };
  return {
    id: Number(row.id),
    envName: row.cluster_name as EnvName,
    kind,
    status: Status.parse(row.status),
    trigger,
    steps: stepsFor(kind).map((step): StepState => {
      const s = byStep.get(step);
      return {
        step,
        status: StepStatusColumn.parse(s?.status ?? 'pending'),
        startedAt: date(s?.started_at ?? null),
        completedAt: date(s?.completed_at ?? null),
        detail: s?.detail ?? null,
        error: s?.error ?? null,
      };
    }),
    currentStep: Step.parse(row.current_step),
    failedStep: Step.parse(row.failed_step),
    error: row.error_message,
    fixCommand: asNextCommand(row.fix_command),
    logOutput: row.log_output,
    cancelRequested: row.cancel_requested,
    attempt: row.attempt,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: date(row.lease_expires_at),
    commentId: num(row.comment_id),
    checkRunId: num(row.check_run_id),
    deploymentId: num(row.deployment_id),
    deploymentState: DeploymentStateColumn.parse(row.deployment_state),
    change: changeOf(row.change),
    startedAt: date(row.started_at) ?? new Date(0),
    completedAt: date(row.completed_at),
    updatedAt: date(row.updated_at) ?? new Date(0),
  };
}
