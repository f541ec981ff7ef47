// A check run: a standalone one (the consistency check's), its external id unique to the run; or
// an operation's, on the pull request's head (the default branch's head for an issue), created
// once with the operation's id as external id and updated from then on.
import { isFinished, type Operation } from '../../domain/index.js';
import { SUMMARY_LIMIT, checkRunName, checkRunState } from '../check-run.js';
import { defaultBranchHead } from '../types.js';
import type { Write } from '../write-kinds.js';
import { findCheckRunBy } from '../write-lookups.js';
import { completion, fit, type Made, type WriteContext } from './context.js';

export async function writeCheckRun(
  ctx: WriteContext,
  w: Extract<Write, { kind: 'check-run' }>,
): Promise<Made> {
  const { octokit, repo } = ctx;
  const found = ctx.uncertain
    ? await findCheckRunBy(octokit, repo, w.headSha, w.name, w.externalId)
    : null;
  if (found !== null) return { externalId: found };
  const { data } = await octokit.rest.checks.create({
    ...repo,
    name: w.name,
    head_sha: w.headSha,
    external_id: w.externalId,
    status: w.status,
    ...completion(w.conclusion),
    output: { title: w.title, summary: fit(ctx, w.summary, SUMMARY_LIMIT) },
    ...(w.actions ? { actions: w.actions } : {}),
  });
  return { externalId: data.id };
}

export async function writeStatusCheckRun(ctx: WriteContext, op: Operation): Promise<Made> {
  const { octokit, repo, row } = ctx;
  const { store, urls } = ctx.deps;
  const final = isFinished(op.status);
  const env = await store.getEnvironment(op.envName);
  const state = checkRunState(op, env, urls);
  const fields = {
    status: state.status,
    ...completion(state.conclusion),
    output: { title: state.output.title, summary: fit(ctx, state.output.summary, SUMMARY_LIMIT) },
    ...(state.actions ? { actions: state.actions } : {}),
  };
  let id = row.externalId;
  if (id === null) {
    const headSha = op.trigger.headSha ?? (await defaultBranchHead(octokit, repo));
    // An earlier attempt may have created it before its sender died: ours carry the operation's id.
    if (ctx.uncertain)
      id = await findCheckRunBy(octokit, repo, headSha, checkRunName(op), String(op.id));
    if (id === null) {
      const { data } = await octokit.rest.checks.create({
        ...repo,
        name: checkRunName(op),
        head_sha: headSha,
        external_id: String(op.id),
        ...fields,
      });
      await store.updateOperation(op.id, { checkRunId: data.id });
      return { final, externalId: data.id };
    }
  }
  await octokit.rest.checks.update({ ...repo, check_run_id: id, ...fields });
  if (op.checkRunId !== id) await store.updateOperation(op.id, { checkRunId: id });
  return { final, externalId: id };
}
