// `history <name>`: every version of the environment's configuration, newest first, each with what
// it changed of the one before (a deleted environment keeps its history).
import type { CommandOf } from '../commands/verbs.js';
import {
  configChanges,
  notFound,
  type ConfigChange,
  type EnvironmentVersion,
} from '../domain/index.js';
import type { ActionContext } from './context.js';

export interface HistoryOutcome {
  verb: 'history';
  name: string;
  versions: (EnvironmentVersion & { changes: ConfigChange[] })[];
}

export async function history(
  command: CommandOf<'history'>,
  ctx: Pick<ActionContext, 'store'>,
): Promise<HistoryOutcome> {
  // One more than shown: the oldest shown is compared with the one before it.
  const found = await ctx.store.versions.list(command.name, 51);
  if (found.length === 0) {
    if (!(await ctx.store.getEnvironment(command.name))) throw notFound(command.name);
    return { verb: 'history', name: command.name, versions: [] };
  }
  const versions = found.slice(0, 50).map((v, i) => ({
    ...v,
    changes: configChanges(found[i + 1]?.config ?? null, v.config),
  }));
  return { verb: 'history', name: command.name, versions };
}
