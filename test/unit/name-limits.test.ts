// Every name another system builds from an environment's name, for names of every length: a name
// is accepted for a provider exactly when every derived name passes its system's rule, and a
// refusal names the system that limits it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseComment } from '../../src/commands/parse.js';
import {
  DERIVED_NAMES,
  checkDerivedNames,
  checkEnvName,
  derivedNameValid,
  longestName,
  PROVIDERS,
} from '../../src/domain/index.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,78}[a-z0-9])?$/);

describe('names derived from an environment name', () => {
  it('accepts a name for a provider exactly when every derived name is valid', () => {
    fc.assert(
      fc.property(label, fc.constantFrom(...PROVIDERS), (name, provider) => {
        const allValid = DERIVED_NAMES.filter((d) => !d.provider || d.provider === provider).every(
          (d) => derivedNameValid(d, d.build(name)),
        );
        const accepted = checkEnvName(name).ok && checkDerivedNames(name, provider) === null;
        expect(accepted).toBe(allValid && checkEnvName(name).ok);
      }),
      { numRuns: 3000 },
    );
  });

  it('for every length, the longest accepted name is the tightest limit of any system', () => {
    for (const provider of PROVIDERS) {
      const { max } = longestName(provider);
      for (let length = 1; length <= 80; length++) {
        const name = 'a'.repeat(length);
        expect(checkDerivedNames(name, provider) === null, `${provider} ${length}`).toBe(
          length <= max,
        );
      }
    }
    expect(longestName('k3d').max).toBe(32);
    expect(longestName('kind').max).toBe(46);
  });

  it('a refusal says which system limits the name, in comments and in the CLI wording alike', () => {
    const k3d = parseComment(`/env create ${'a'.repeat(33)} k3d`)[0] as any;
    expect(k3d.message).toContain('on k3d the limit is 32, set by the k3d cluster name');
    const kind = parseComment(`/env create ${'b'.repeat(47)} kind`)[0] as any;
    expect(kind.message).toContain(
      'on kind the limit is 46, set by the Helm release Argo CD installs',
    );
    const ok = parseComment(`/env create ${'c'.repeat(46)} kind`)[0] as any;
    expect(ok.command).toMatchObject({ verb: 'create', provider: 'kind' });
  });
});
