// Next commands are values, spelled by each surface; commands stored spelled (before they were
// values) read back as values.
import { describe, expect, it } from 'vitest';
import { afterShell, asNextCommand, command, shell, spell } from '../../src/domain/index.js';

describe('a next command', () => {
  it('is spelled /env … in a comment and kindler … in a terminal', () => {
    expect(spell(command('retry', 'dev'), 'comment')).toBe('/env retry dev');
    expect(spell(command('retry', 'dev'), 'cli')).toBe('kindler retry dev');
    // Every surface has one grammar: sync and prune take names in a comment too.
    expect(spell(command('prune', 'old'), 'comment')).toBe('/env prune old');
    expect(spell(command('prune', 'old'), 'cli')).toBe('kindler prune old');
    expect(spell(command('sync', 'web'), 'comment')).toBe('/env sync web');
    const twoSteps = afterShell('k3d cluster delete dev', command('sync', 'dev'));
    expect(spell(twoSteps, 'cli')).toBe('k3d cluster delete dev && kindler sync dev');
    expect(spell(twoSteps, 'comment')).toBe('k3d cluster delete dev && /env sync dev');
    expect(spell(shell('k3d cluster start dev'), 'comment')).toBe('k3d cluster start dev');
  });

  it('reads back what was stored, spelled or as a value', () => {
    expect(asNextCommand('/env retry dev')).toEqual(command('retry', 'dev'));
    expect(asNextCommand('kindler prune --confirm old')).toEqual(
      command('prune', '--confirm', 'old'),
    );
    expect(asNextCommand('k3d cluster delete dev && kindler sync dev')).toEqual(
      afterShell('k3d cluster delete dev', command('sync', 'dev')),
    );
    expect(asNextCommand('docker start dev-control-plane')).toEqual(
      shell('docker start dev-control-plane'),
    );
    expect(asNextCommand(JSON.stringify(command('delete', 'x')))).toEqual(command('delete', 'x'));
    expect(asNextCommand(null)).toBeNull();
    expect(asNextCommand('')).toBeNull();
  });
});
