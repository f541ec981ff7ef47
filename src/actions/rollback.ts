// `rollback <name> [version] [--confirm]`: an earlier version's configuration applied as an update
// (default: the version before the current one). For a pull request's environment that version's
// head is rendered onto the branch again, and told in the pull request like any redeploy.
import type { CommandOf } from '../commands/verbs.js';
import {
  Failure,
  command as next,
  configOf,
  notFound,
  type EnvName,
  type EnvironmentConfig,
  type EnvironmentVersion,
  type Trigger,
} from '../domain/index.js';
import { KEEP_VERSIONS } from '../store/versions.js';
import type { ActionContext } from './context.js';
import type { OperationOutcome } from './outcome.js';

export async function rollback(
  command: CommandOf<'rollback'>,
  ctx: Pick<ActionContext, 'engine' | 'store' | 'trigger' | 'now'>,
): Promise<OperationOutcome> {
  const { name } = command;
  const env = await ctx.store.getEnvironment(name);
  if (!env) throw notFound(name);
  const versions = await ctx.store.versions.list(name, KEEP_VERSIONS);
  const target = chosen(name, versions, command.version);
  const current = configOf(env);
  const to = restored(target.config, current, ctx.now?.() ?? new Date());
  // A head deployed again is told where the pull request's operations are.
  const trigger =
    to.deployedSha !== current.deployedSha ? await inConversation(env.name, ctx) : ctx.trigger;
  const operation = await ctx.engine.request({
    kind: 'update',
    name,
    to,
    rollbackTo: target.version,
    confirm: command.confirm,
    trigger,
  });
  return { verb: 'rollback', operation };
}

function chosen(
  name: string,
  versions: EnvironmentVersion[],
  wanted: number | null,
): EnvironmentVersion {
  const kept = versions.length
    ? `versions ${versions.at(-1)?.version}–${versions[0]?.version} are kept`
    : 'it has no versions';
  if (wanted === null) {
    const previous = versions[1];
    if (!previous)
      throw new Failure(
        'nothing_to_do',
        `"${name}" has no earlier version to roll back to (${kept})`,
        next('history', name),
      );
    return previous;
  }
  const found = versions.find((v) => v.version === wanted);
  if (!found)
    throw new Failure(
      'not_found',
      `"${name}" has no version ${wanted} (${kept})`,
      next('history', name),
    );
  return found;
}

/**
 * What a version's configuration is when applied now: an expiry it had that has passed is not
 * restored (the environment would be swept at once), and a version from before the first head was
 * deployed keeps the head deployed now.
 */
function restored(
  config: EnvironmentConfig,
  current: EnvironmentConfig,
  now: Date,
): EnvironmentConfig {
  const passed = config.expiresAt !== null && new Date(config.expiresAt) <= now;
  return {
    ...config,
    ...(passed ? { expiresAt: current.expiresAt, pinned: current.pinned } : {}),
    deployedSha: config.deployedSha ?? current.deployedSha,
  };
}

/** The trigger, reporting where the environment's pull request is when it was asked elsewhere. */
async function inConversation(
  name: EnvName,
  ctx: Pick<ActionContext, 'store' | 'trigger'>,
): Promise<Trigger> {
  if (ctx.trigger.repo) return ctx.trigger;
  const ops = await ctx.store.listOperations({ envName: name, limit: 20 });
  const pr = ops.find((o) => o.trigger.source === 'pull_request' && o.trigger.repo);
  return pr
    ? { ...ctx.trigger, repo: pr.trigger.repo, issueNumber: pr.trigger.issueNumber }
    : ctx.trigger;
}
