// One rule for who may do what, on every surface: a command is judged as its verb, and a retry or
// cancel also as the operation it resumes or stops (retrying a delete needs what delete needs);
// extend and update change an environment's life, so they need what create needs (a rollback
// what the update it amounts to needs), and a deploy is a pull request's create carried on.
// `decide` is the surface's judge of one verb (the policy of the config repository and the
// sender's permission there; the local operator may do everything).
import type { Decision } from '../commands/policy.js';
import { commandName, type Command, type Verb } from '../commands/verbs.js';
import type { EnvName, Operation } from '../domain/index.js';
import type { Store } from '../store/store.js';

export type Decide = (verb: Verb) => Promise<Decision>;

/** The verbs a request is judged as: its own, and what it resumes or stands for. */
export function judgedAs(verb: Verb, resumes: Pick<Operation, 'kind'> | null): Verb[] {
  // What it resumes is judged as that verb is (a retried update needs what an update needs).
  if ((verb === 'retry' || verb === 'cancel') && resumes)
    return [verb, ...judgedAs(resumes.kind === 'deploy' ? 'create' : resumes.kind, null)];
  if (verb === 'extend' || verb === 'update') return [verb, 'create'];
  // A rollback is the update it amounts to.
  if (verb === 'rollback') return [verb, 'update', 'create'];
  return [verb];
}

/** The first refusal of the verbs the command is judged as, or allowed. */
export async function authorize(
  command: Pick<Command, 'verb'> & { name?: EnvName },
  decide: Decide,
  store: Pick<Store, 'latestOperation' | 'activeOperation'>,
): Promise<Decision> {
  const name = commandName(command as Command) as EnvName | null;
  const resumes = !name
    ? null
    : command.verb === 'retry'
      ? await store.latestOperation(name)
      : command.verb === 'cancel'
        ? await store.activeOperation(name)
        : null;
  for (const verb of judgedAs(command.verb, resumes)) {
    const decision = await decide(verb);
    if (!decision.allowed) return decision;
  }
  return { allowed: true };
}
