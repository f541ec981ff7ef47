// Generated input: the parser never throws, and never accepts a name the domain would refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseComment } from '../../src/commands/parse.js';
import { checkEnvName, RESERVED_NAMES } from '../../src/domain/index.js';

const verbs = [
  'create',
  'delete',
  'status',
  'retry',
  'cancel',
  'extend',
  'list',
  'prune',
  'help',
  'crete',
];
const nameLike = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[a-zA-Z0-9_./-]{0,70}$/),
  fc.constantFrom(...RESERVED_NAMES, 'archive/x', 'a'.repeat(64), '-a', 'a-', 'ok-name'),
);
const commentLine = fc
  .tuple(
    fc.constantFrom(...verbs),
    nameLike,
    fc.constantFrom('', ' kind', ' k3d', ' --ttl 3d', ' --provider=kind', ' x'),
  )
  .map(([verb, name, tail]) => `/env ${verb} ${name}${tail}`);
const comment = fc
  .array(
    fc.oneof(
      commentLine,
      fc.string(),
      fc.constantFrom('```', '> /env delete x', '<!--', '-->', '`'),
    ),
    { maxLength: 8 },
  )
  .map((lines) => lines.join('\n'));

describe('parseComment on generated input', () => {
  it('never throws and only accepts valid names', () => {
    fc.assert(
      fc.property(comment, (body) => {
        for (const line of parseComment(body)) {
          if (line.kind !== 'command' || !('name' in line.command)) continue;
          const name = line.command.name;
          expect(checkEnvName(name).ok).toBe(true);
          expect(name.length).toBeLessThanOrEqual(63);
          expect(RESERVED_NAMES).not.toContain(name);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary strings never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (body) => {
        parseComment(`/env ${body}`);
        parseComment(body);
      }),
      { numRuns: 3000 },
    );
  });
});
