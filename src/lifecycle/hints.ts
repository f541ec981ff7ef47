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
    'check the Git service and credentials (GIT_REPO_URL, GIT_USERNAME, GIT_PASSWORD, or the ' +
    "app's contents permission)",
  cluster:
    'check that Docker is running, the node image can be pulled and the allocated ports are free',
  portainer: 'check PORTAINER_URL and the API key or admin password, and that Portainer is up',
  argocd: 'check DEVOPS_CONTEXT and that the devops cluster and the new cluster are reachable',
  haproxy: 'check HAPROXY_CONFIG (haproxy -c -f must accept it) and HAPROXY_RELOAD_COMMAND',
  ready:
    "check that the environment answers: Argo CD synced its branch, the cluster's ingress is " +
    'up and the route reaches the published http port (KINDLER_READY_TIMEOUT ' +
    'sets how long to wait)',
};

/**
 * Causes that say more than their step: what the error's own words name. Read only to choose the
 * hint shown to a person (never to decide what the engine does), most specific first.
 */
/** One pattern matching any of `parts` (their groups numbered in order; flags of the last). */
function anyOf(...parts: RegExp[]): RegExp {
  return new RegExp(parts.map((p) => p.source).join('|'), parts.at(-1)?.flags);
}

const CAUSES: { test: RegExp; hint: (m: RegExpExecArray) => string }[] = [
  {
    test: anyOf(
      /spawn (\S+) ENOENT/,
      /(?:^|\s)([\w.-]+): (?:command )?not found/,
      /executable file not found in \$PATH/,
    ),
    hint: (m) =>
      `install ${(m[1] ?? m[2]) ? `\`${m[1] ?? m[2]}\`` : 'the missing program'} ` +
      `or put it on PATH for the bot (it was not found)`,
  },
  {
    test: /Cannot connect to the Docker daemon|docker\.sock|Is the docker daemon running/i,
    hint: () => 'start Docker: its daemon did not answer',
  },
  {
    test: /port is already allocated|address already in use|EADDRINUSE/i,
    hint: () =>
      'free the port the error names (another process or cluster holds it), or delete the ' +
      'environment and create it again for other ports',
  },
  {
    test: anyOf(
      /x509|self[- ]signed certificate|unable to verify the first certificate/i,
      /CERT_[A-Z_]+|certificate has expired/i,
    ),
    hint: () =>
      "make the server's certificate trusted here (NODE_EXTRA_CA_CERTS names a CA file) or fix " +
      'the certificate it presents',
  },
  {
    test: anyOf(
      /pull access denied|ErrImagePull|ImagePullBackOff/i,
      /failed to pull|manifest unknown|toomanyrequests/i,
    ),
    hint: () =>
      'make the image available: pull it where Docker can reach the registry and load it into ' +
      'the cluster (k3d image import, kind load docker-image), or check the image name',
  },
];

/** What to check after `step` of a `kind` operation failed; the cause in `error` refines it. */
export function hintFor(kind: OperationKind, step: StepName, error?: string | null): string {
  for (const cause of CAUSES) {
    const m = error ? cause.test.exec(error) : null;
    if (m) return cause.hint(m);
  }
  if (kind === 'deploy' && step === 'branch')
    return (
      "fix what the error names in the pull request's deploy/ and push again (the " +
      'previous deployment stays); when GitHub failed, retry'
    );
  if (step === 'cluster' && kind !== 'create' && kind !== 'sync')
    return (
      `check that Docker is running and the cluster exists (k3d cluster list, kind get ` +
      `clusters) before you ${kind === 'delete' ? 'delete' : kind} it again`
    );
  return CREATE_HINTS[step];
}

export const retryCommand = (name: EnvName): NextCommand => command('retry', name);
export const deleteCommand = (name: EnvName): NextCommand => command('delete', name);
/** Shown after a delete left its branch behind (a Git failure on delete is only a warning). */
export const branchCleanupCommand = (name: EnvName): string =>
  `git push <remote> --delete ${name}  (or kindler prune ${name}, then its --confirm)`;
