// An operation's GitHub Deployment (a pull request's preview): created once for its head, then one
// status per state it reaches (statuses are a log: a state already written is not written again).
import { deploymentState, environmentUrl, isFinished, type Operation } from '../../domain/index.js';
import { findDeployment } from '../write-lookups.js';
import { oneLine, type Made, type WriteContext } from './context.js';

export async function writeDeployment(ctx: WriteContext, op: Operation): Promise<Made> {
  const { octokit, repo, uncertain } = ctx;
  const { store, urls } = ctx.deps;
  const env = await store.getEnvironment(op.envName);
  const state = deploymentState(op, env);
  const final = isFinished(op.status);
  if (state === op.deploymentState)
    return op.deploymentId === null ? { final } : { final, externalId: op.deploymentId };
  const sha = op.trigger.headSha as string;
  let id = op.deploymentId ?? (uncertain ? await findDeployment(octokit, repo, op) : null);
  if (id === null) {
    if (state === 'inactive') return { final }; // never shown: nothing to retire
    const { data } = await octokit.rest.repos.createDeployment({
      ...repo,
      ref: sha,
      environment: op.envName,
      description: `kindler ${op.kind} of ${sha.slice(0, 7)} (operation #${op.id})`,
      transient_environment: true,
      production_environment: false,
      // A preview deploys the head as it is: no merge of the base, no wait for other checks
      // (kindler's own check run is still running).
      auto_merge: false,
      required_contexts: [],
      payload: { operation: op.id },
    });
    if (!('id' in data))
      throw Object.assign(new Error(`GitHub did not create the deployment: ${data.message}`), {
        status: 409,
      });
    id = data.id;
    await store.updateOperation(op.id, { deploymentId: id });
  }
  const url = state === 'success' && env ? environmentUrl(env, urls) : undefined;
  const description = oneLine(
    ctx,

    state === 'success'
      ? `${sha.slice(0, 7)} is served`
      : state === 'inactive'
        ? ((op.status === 'cancelled' ? op.error : null) ??
          (env
            ? `replaced by ${env.deployed?.sha.slice(0, 7) ?? 'a newer head'}`
            : 'environment deleted'))
        : state === 'failure'
          ? `${op.failedStep ?? 'a step'} failed: ${op.error ?? 'unknown error'}`
          : `${op.kind} of ${sha.slice(0, 7)}`,
  );
  await octokit.rest.repos.createDeploymentStatus({
    ...repo,
    deployment_id: id,
    state,
    description: description.length > 140 ? `${description.slice(0, 139)}…` : description,
    ...(url ? { environment_url: url } : {}),
    ...(urls.dashboard
      ? { log_url: `${urls.dashboard}/kindler/environments/${encodeURIComponent(op.envName)}` }
      : {}),
    auto_inactive: false,
  });
  await store.updateOperation(op.id, { deploymentState: state });
  return { final, externalId: id };
}
