// A pull request's deployments as GitHub shows them: which operations deploy a head, and the state
// each one's Deployment should show now. Pure.
import type { Environment } from './environment.js';
import type { DeploymentState, Operation } from './operation.js';

/**
 * A pull request's create or deploy, or an update that renders an earlier head again (a rollback):
 * it deploys a head, shown as a GitHub Deployment.
 */
export const deploysHead = (op: Operation): boolean =>
  op.trigger.headSha !== null &&
  ((op.trigger.source === 'pull_request' && (op.kind === 'deploy' || op.kind === 'create')) ||
    (op.kind === 'update' &&
      op.trigger.repo !== null &&
      op.change !== null &&
      op.change.to.deployedSha !== op.change.from.deployedSha));

/**
 * The state an operation's Deployment should show now: a success stays `success` while its head
 * is what the environment serves, and becomes `inactive` once a newer head is deployed or the
 * environment is deleted; a superseded or cancelled one is `inactive`.
 */
export function deploymentState(op: Operation, env: Environment | null): DeploymentState {
  switch (op.status) {
    case 'queued':
      return 'queued';
    case 'running':
      return 'in_progress';
    case 'failed':
      return 'failure';
    case 'cancelled':
      return 'inactive';
    case 'success':
      return env && (!env.source || env.deployed?.sha === op.trigger.headSha)
        ? 'success'
        : 'inactive';
  }
}
