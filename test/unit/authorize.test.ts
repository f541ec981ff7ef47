// The one rule for every surface: extend, update and rollback change an environment's life and are
// judged as create too; a rollback is also the update it amounts to; a retry is what it resumes.
import { describe, expect, it } from 'vitest';
import { authorize } from '../../src/actions/authorize.js';
import type { Verb } from '../../src/commands/verbs.js';
import { envName } from '../../src/domain/index.js';

const none = { latestOperation: async () => null, activeOperation: async () => null };
/** A judge refusing the verbs given, allowing the rest, and remembering what it was asked. */
function judge(...refused: Verb[]) {
  const asked: Verb[] = [];
  const decide = async (verb: Verb) => {
    asked.push(verb);
    return refused.includes(verb)
      ? { allowed: false as const, rule: `no-${verb}`, message: `no ${verb}` }
      : { allowed: true as const };
  };
  return { asked, decide };
}

describe('authorize', () => {
  it.each([
    ['update', ['update', 'create']],
    ['rollback', ['rollback', 'update', 'create']],
    ['extend', ['extend', 'create']],
    ['history', ['history']],
  ] as const)('%s is judged as %j', async (verb, verbs) => {
    const { asked, decide } = judge();
    const decision = await authorize({ verb, name: envName('dev') }, decide, none);
    expect(decision.allowed).toBe(true);
    expect(asked).toEqual(verbs);
  });

  it('a rule on update refuses a rollback; a rule on create refuses both', async () => {
    const name = envName('dev');
    expect(await authorize({ verb: 'rollback', name }, judge('update').decide, none)).toMatchObject(
      { allowed: false, rule: 'no-update' },
    );
    expect(await authorize({ verb: 'update', name }, judge('create').decide, none)).toMatchObject({
      allowed: false,
      rule: 'no-create',
    });
    expect(await authorize({ verb: 'status', name }, judge('create').decide, none)).toEqual({
      allowed: true,
    });
  });

  it('a retry of an update is judged as an update, and so as a create', async () => {
    const { asked, decide } = judge();
    const store = { ...none, latestOperation: async () => ({ kind: 'update' as const }) };
    await authorize({ verb: 'retry', name: envName('dev') }, decide, store as never);
    expect(asked).toEqual(['retry', 'update', 'create']);
  });
});
