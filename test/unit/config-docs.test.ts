// docs/configuration.md documents every variable the configuration reads: a variable added to
// config.ts without a line there fails here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config/config.js';

describe('docs/configuration.md', () => {
  it('names every variable config.ts reads', () => {
    const docs = fs.readFileSync(
      path.resolve(import.meta.dirname, '../../docs/configuration.md'),
      'utf8',
    );
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(50);
    expect(CONFIG_VARIABLES.filter((name) => !docs.includes(`\`${name}\``))).toEqual([]);
  });
});
