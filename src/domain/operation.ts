import type { EnvName } from './env-name.js';
import { Failure } from './errors.js';
import { command, type NextCommand } from './next-command.js';
import type { OperationChange } from './update.js';

/**
 * create and delete run the lifecycle; sync makes what the row implies exist again (the system
 * steps a consistency check found wanting, then the ready probe) and deletes nothing; prune removes
 * what a name without a row still holds (the systems a check found orphaned), branch archived;
 * deploy renders a pull request's newer head onto the environment's branch and waits until it is
 * served (Argo CD syncs the branch); stop halts the cluster's containers and start brings them
 * back (upstream `cluster.sh stop|start`), the row kept as it is; update applies a changed
 * configuration (recorded on the row and as a version first) with only the steps it needs.
 */
export const OPERATION_KINDS = [
  'create',
  'delete',
  'sync',
  'prune',
  'deploy',
  'stop',
  'start',
  'update',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
/** `operations.status`, in upstream vocabulary plus queueing and cancellation. */
export const OPERATION_STATUSES = ['queued', 'running', 'success', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export const ACTIVE_STATUSES: readonly OperationStatus[] = ['queued', 'running'];
/** True once the operation has ended: success, failed or cancelled. */
export const isFinished = (status: OperationStatus): boolean => !ACTIVE_STATUSES.includes(status);

export const CREATE_STEPS = [
  'record',
  'branch',
  'cluster',
  'portainer',
  'argocd',
  'haproxy',
  'ready',
] as const;
export const DELETE_STEPS = [
  'cluster',
  'portainer',
  'argocd',
  'haproxy',
  'branch',
  'record',
] as const;
export const SYNC_STEPS = ['branch', 'cluster', 'portainer', 'argocd', 'haproxy', 'ready'] as const;
export const PRUNE_STEPS = ['cluster', 'portainer', 'argocd', 'haproxy', 'branch'] as const;
export const DEPLOY_STEPS = ['branch', 'ready'] as const;
export const STOP_STEPS = ['cluster'] as const;
export const START_STEPS = ['cluster', 'ready'] as const;
/** An update may touch every system a create does, in the same order (the plan skips the rest). */
export const UPDATE_STEPS = CREATE_STEPS;
/**
 * The detail of a sync's or prune's step its consistency check found nothing to do for (skipped).
 */
export const NOTHING_TO_DO = 'nothing to do';
export type StepName = (typeof CREATE_STEPS)[number];

export const STEP_STATUSES = [
  'pending',
  'running',
  'done',
  'skipped',
  'failed',
  'warning',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface StepState {
  step: StepName;
  status: StepStatus;
  startedAt: Date | null;
  completedAt: Date | null;
  /**
   * What happened, in one line: "created", "already present", "skipped: PORTAINER_URL is not set".
   */
  detail: string | null;
  error: string | null;
}

/** Where an operation was asked for and where it reports. */
export const TRIGGER_SOURCES = [
  'cli',
  'issue_comment',
  'pull_request',
  'check_run',
  'schedule',
  'dashboard',
  /** The reconcile loop's own repairs (KINDLER_AUTO_REPAIR). */
  'monitor',
] as const;
/**
 * How the actor proved who they are: a GitHub account (comment, sign-in, user token), the local
 * operator's dashboard token, or the OS user running the CLI. A login alone is not an identity:
 * a GitHub user may be called anything, "operator" included.
 */
export const ACTOR_VIAS = ['github', 'token', 'cli'] as const;
export type ActorVia = (typeof ACTOR_VIAS)[number];
export interface Trigger {
  source: (typeof TRIGGER_SOURCES)[number];
  actor: string | null;
  /** How `actor` was established; absent in records from before it was kept. */
  via?: ActorVia | null;
  url: string | null;
  repo: string | null;
  issueNumber: number | null;
  headSha: string | null;
}

/** A GitHub Deployment status state, as kindler-bot writes them. */
export const DEPLOYMENT_STATES = [
  'queued',
  'in_progress',
  'success',
  'failure',
  'inactive',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export interface Operation {
  id: number;
  envName: EnvName;
  kind: OperationKind;
  status: OperationStatus;
  trigger: Trigger;
  steps: StepState[];
  currentStep: StepName | null;
  failedStep: StepName | null;
  error: string | null;
  fixCommand: NextCommand | null;
  logOutput: string | null;
  cancelRequested: boolean;
  attempt: number;
  /** The worker holding the operation and until when (renewed while it runs). */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  commentId: number | null;
  checkRunId: number | null;
  /** The GitHub Deployment of the head this operation deploys (pull-request environments). */
  deploymentId: number | null;
  /** The last state written to that Deployment (statuses are a log: each is written once). */
  deploymentState: DeploymentState | null;
  /** An update's configuration before and after (null for every other kind). */
  change: OperationChange | null;
  startedAt: Date;
  completedAt: Date | null;
  updatedAt: Date;
}

export const stepsFor = (kind: OperationKind): readonly StepName[] =>
  ({
    create: CREATE_STEPS,
    delete: DELETE_STEPS,
    sync: SYNC_STEPS,
    prune: PRUNE_STEPS,
    deploy: DEPLOY_STEPS,
    stop: STOP_STEPS,
    start: START_STEPS,
    update: UPDATE_STEPS,
  })[kind];

/** Whether the operation's steps make things exist (ensure) rather than go away or halt. */
export const ensures = (kind: OperationKind): boolean =>
  kind !== 'delete' && kind !== 'prune' && kind !== 'stop';

/** The refusal when an environment already has a queued or running operation. */
export function busyFailure(active: Operation): Failure {
  const where = active.currentStep ? ` at ${active.currentStep}` : '';
  return new Failure(
    'busy',
    `environment "${active.envName}" already has a ${active.kind} ` +
      `operation (#${active.id}, ${active.status}${where}, started ` +
      `${active.startedAt.toISOString()}); one operation runs at a time`,
    command('cancel', active.envName),
  );
}

/** How long a finished step took, as people read it ("840 ms", "3.2 s"); empty while it runs. */
export function stepDuration(step: StepState): string {
  if (!step.startedAt || !step.completedAt) return '';
  const ms = step.completedAt.getTime() - step.startedAt.getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
