// The default data location is one place, whichever directory the server or the CLI starts in;
// a KINDLER_DATA_DIR given is taken relative to where it is given.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the data directory', () => {
  it('defaults to data/ in the kindler-bot directory from anywhere', () => {
    for (const cwd of [ROOT, '/tmp', path.join(ROOT, 'src')])
      expect(loadConfig({}, cwd).dataDir).toBe(path.join(ROOT, 'data'));
    expect(loadConfig({}, '/tmp').csvPath).toBe(path.join(ROOT, 'data', 'environments.csv'));
  });

  it('takes KINDLER_DATA_DIR relative to the current directory', () => {
    expect(loadConfig({ KINDLER_DATA_DIR: 'mine' }, '/tmp/x').dataDir).toBe('/tmp/x/mine');
    expect(loadConfig({ KINDLER_DATA_DIR: '/srv/kindler' }, '/tmp/x').dataDir).toBe('/srv/kindler');
  });
});
