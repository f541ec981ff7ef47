// Labels as every surface reads them: Kubernetes' syntax, a bound per environment, one canonical
// text in versions, and the `/env` grammar of create, update and list.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/commands/parse.js';
import {
  MAX_LABELS,
  configChanges,
  labelsFromText,
  labelsText,
  matchesLabels,
  parseLabels,
  patched,
  storedConfig,
  withLabels,
} from '../../src/domain/index.js';

describe('labels', () => {
  it('reads key=value words, comma-separated or repeated, with a prefix or an empty value', () => {
    expect(parseLabels(['team=a,tier=web', 'example.com/owner=bob', 'note='])).toEqual({
      labels: { team: 'a', tier: 'web', 'example.com/owner': 'bob', note: '' },
    });
  });

  it.each([
    ['team', 'must be key=value'],
    ['-team=a', 'label key "-team"'],
    ['Bad Prefix/x=1', 'prefix must be a DNS subdomain'],
    [`${'k'.repeat(64)}=1`, 'at most 63'],
    ['team=a b', 'the value "a b"'],
    ['team=-a', 'the value "-a"'],
    ['team=a,team=b', 'given twice'],
    ['team-', 'must be key=value'],
  ])('refuses %j: %s', (word, said) => {
    const parsed = parseLabels([word]);
    expect('message' in parsed && parsed.message).toContain(said);
  });

  it('removes with key- only where removals are allowed (an update)', () => {
    expect(parseLabels(['team-', 'tier=web'], { removals: true })).toEqual({
      labels: { team: null, tier: 'web' },
    });
  });

  it('bounds what one environment carries, and writes one canonical text', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_LABELS }, (_, i) => [`k${i}`, 'v']));
    expect(withLabels(many, { k0: null, extra: 'x' })).toEqual({
      labels: { ...Object.fromEntries(Object.entries(many).slice(1)), extra: 'x' },
    });
    expect(withLabels(many, { extra: 'x' })).toEqual({
      message: `an environment carries at most ${MAX_LABELS} labels (this would be 11)`,
    });
    expect(labelsText({ tier: 'web', team: 'a' })).toBe('team=a,tier=web');
    expect(labelsFromText('team=a,tier=web')).toEqual({ team: 'a', tier: 'web' });
    expect(labelsFromText('')).toEqual({});
    expect(matchesLabels({ team: 'a', tier: 'web' }, { team: 'a' })).toBe(true);
    expect(matchesLabels({ team: 'a' }, { team: 'a', tier: 'web' })).toBe(false);
  });

  it('are part of a version: a version from before labels has none, a change is told', () => {
    const before = storedConfig({ provider: 'k3d' });
    expect(before.labels).toBe('');
    const after = patched(before, { labels: { team: 'a' } }, new Date());
    expect(configChanges(before, after)).toEqual([{ field: 'labels', from: '', to: 'team=a' }]);
    const removed = patched(after, { labels: { team: null, tier: 'web' } }, new Date());
    expect(removed.labels).toBe('tier=web');
  });

  it('in the /env grammar: create, update (key- removes) and list', () => {
    expect(parseArgs(['create', 'dev', 'k3d', '--label', 'team=a', '--label=tier=web'])).toEqual({
      command: expect.objectContaining({
        verb: 'create',
        name: 'dev',
        labels: { team: 'a', tier: 'web' },
      }),
    });
    expect(parseArgs(['update', 'dev', '--label', 'team=b,tier-'])).toEqual({
      command: {
        verb: 'update',
        name: 'dev',
        patch: { labels: { team: 'b', tier: null } },
        confirm: false,
      },
    });
    expect(parseArgs(['list', '--label', 'team=a'])).toEqual({
      command: { verb: 'list', labels: { team: 'a' } },
    });
    const refused = parseArgs(['create', 'dev', '--label', 'team-']);
    expect('message' in refused && refused.message).toContain('must be key=value');
    const tooMany = parseArgs([
      'create',
      'dev',
      '--label',
      Array.from({ length: MAX_LABELS + 1 }, (_, i) => `k${i}=v`).join(','),
    ]);
    expect('message' in tooMany && tooMany.message).toContain(`At most ${MAX_LABELS} labels`);
  });
});
