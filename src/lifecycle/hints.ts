// What a person should check when a step fails, and the command that moves them forward. The
// GitHub comment, the check run and the CLI all show the same words.
import {
  command,
  type EnvName,
  type NextCommand,
  type OperationKind,
  type StepName,
} from '../domain/index.js';

const CREATE_HINTS: Record<StepName, string> = {
  record: 'check that the database is reachable (DATABASE_URL)',
  branch:
    "check the Git service and credentials (GIT_REPO_URL, GIT_USERNAME, GIT_PASSWORD, or the app's contents permission)",
  cluster:
    'check that Docker is running, the node image can be pulled and the allocated ports are free',
  portainer: 'check PORTAINER_URL and the API key or admin password, and that Portainer is up',
  argocd: 'check DEVOPS_CONTEXT and that the devops cluster and the new cluster are reachable',
  haproxy: 'check HAPROXY_CONFIG (haproxy -c -f must accept it) and HAPROXY_RELOAD_COMMAND',
  ready:
    "check that the environment answers: Argo CD synced its branch, the cluster's ingress is up and the route reaches the published http port (KINDLER_READY_TIMEOUT sets how long to wait)",
};

export function hintFor(kind: OperationKind, step: StepName): string {
  if (kind === 'deploy' && step === 'branch')
    return "fix what the error names in the pull request's deploy/ and push again (the previous deployment stays); when GitHub failed, retry";
  if (kind === 'delete' && step === 'cluster')
    return 'check that Docker is running and the cluster can be deleted';
  return CREATE_HINTS[step];
}

export const retryCommand = (name: EnvName): NextCommand => command('retry', name);
export const deleteCommand = (name: EnvName): NextCommand => command('delete', name);
/** Shown after a delete left its branch behind (a Git failure on delete is only a warning). */
export const branchCleanupCommand = (name: EnvName): string =>
  `git push <remote> --delete ${name}  (or kindler prune ${name}, then its --confirm)`;
