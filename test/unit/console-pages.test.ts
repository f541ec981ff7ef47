// The console's pages in console terms: only the failure that is still current offers its fix, a
// refused create form is given back what was typed, and refusals lose the comment grammar.
import { describe, expect, it } from 'vitest';
import { command, type Operation } from '../../src/domain/index.js';
import { consoleWords } from '../../src/web/forms.js';
import { html as markup } from '../../src/web/html.js';
import { listPage } from '../../src/web/pages.js';
import { environmentPage } from '../../src/web/environment-page.js';

const viewer = {
  login: 'alice',
  csrf: 'c5rf',
  allowed: new Set(['retry', 'create'] as const),
  signIn: false,
};

const failed = (id: number): Operation =>
  ({
    id,
    envName: 'dev',
    kind: 'create',
    status: 'failed',
    attempt: 1,
    currentStep: null,
    failedStep: 'cluster',
    error: `cluster failed (#${id})`,
    fixCommand: command('retry', 'dev'),
    logOutput: null,
    steps: [],
    trigger: {
      source: 'cli',
      actor: 'alice',
      url: null,
      repo: null,
      issueNumber: null,
      headSha: null,
    },
    startedAt: new Date('2026-12-01T10:00:00Z'),
    completedAt: new Date('2026-12-01T10:01:00Z'),
    updatedAt: new Date('2026-12-01T10:01:00Z'),
  }) as unknown as Operation;

/** The page with every run of whitespace as one space (how a browser reads markup). */
const squeeze = (page: string) => page.replace(/\s+/g, ' ').replace(/\s*>/g, '>');

describe('the console pages', () => {
  it('offer the fix of the newest failure only; an older one says it was superseded', () => {
    const html = environmentPage({
      name: 'dev',
      environment: null,
      operations: [failed(9), failed(4)],
      degraded: null,
      viewer,
    });
    expect(html.match(/Fix: \/env retry dev/g)).toHaveLength(1);
    const older = html.slice(html.indexOf('id="op-4"'));
    expect(older).toContain('Superseded by a later operation.');
    expect(older).not.toContain('Fix:');
  });

  it('give a refused create form back what was typed', () => {
    const html = squeeze(
      listPage({
        environments: [],
        next: null,
        report: null,
        degraded: null,
        viewer,
        notice: { text: markup`refused`, error: true },
        values: {
          name: 'main"><b>',
          provider: 'kind',
          ttl: '3d',
          portainer: 'true',
          haproxy: 'false',
        },
      }),
    );
    expect(html).toContain('value="main&quot;&gt;&lt;b&gt;"');
    expect(html).toContain('<option value="kind" selected>kind</option>');
    expect(html).toContain('name="ttl" placeholder="24h, 3d or never" size="12" value="3d"');
    expect(html).toMatch(/name="portainer" checked ?\/?>/);
    expect(html).toMatch(/name="haproxy" ?\/?>/);
  });

  it('say refusals without the comment grammar', () => {
    expect(
      consoleWords(
        'Name `Main` must be lowercase. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never]`',
      ),
    ).toBe('Name “Main” must be lowercase.');
  });
});
