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
  const found = await ctx.store.versions.list(command.name, SHOWN + 1);
  if (found.length === 0) {
    if (!(await ctx.store.getEnvironment(command.name))) throw notFound(command.name);
    return { verb: 'history', name: command.name, versions: [] };
  }
  return { verb: 'history', name: command.name, versions: withChanges(found) };
}

/** The newest 50 of `found` (newest first, one more read), each with what it changed. */
export const withChanges = (found: EnvironmentVersion[]): HistoryOutcome['versions'] =>
  found.slice(0, SHOWN).map((v, i) => ({
    ...v,
    changes: configChanges(found[i + 1]?.config ?? null, v.config),
  }));

/** Versions shown; one more is read, to say what the oldest shown changed. */
export const SHOWN = 50;
