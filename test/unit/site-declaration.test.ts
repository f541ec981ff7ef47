// A push to the config repository while KINDLER_SITES is the bot's one source of sites: the file's
// sites are not used, and the push is answered on its commit saying so (neutral); pushes to other
// repositories, or that did not touch the file, are not read at all.
import { describe, expect, it } from 'vitest';
import { handlePush, type PushEvent } from '../../src/github/site-declaration.js';
import type { GitHubClient } from '../../src/github/types.js';

const SHA = 'c'.repeat(40);
const push = (over: Partial<PushEvent> = {}): PushEvent => ({
  repo: { owner: 'acme', repo: 'envs' },
  ref: 'refs/heads/main',
  after: SHA,
  deleted: false,
  defaultBranch: 'main',
  touched: ['.github/kindler.yml'],
  commitsListed: 1,
  ...over,
});

function world(file: string) {
  const reads: unknown[] = [];
  const sent: unknown[] = [];
  const octokit = {
    rest: {
      repos: {
        getContent: async (params: unknown) => {
          reads.push(params);
          return { data: file };
        },
      },
    },
  } as unknown as GitHubClient;
  const store = {
    atomically: async () => {
      throw new Error('nothing is declared while KINDLER_SITES is set');
    },
    getState: async () => null,
  };
  const deps = {
    rt: { store, config: { KINDLER_SITES: '/etc/kindler/sites.yaml' } },
    outbox: {
      send: async (w: unknown, o: unknown) => (sent.push([w, o]), { delivered: true, id: 1 }),
    },
    configRepo: 'Acme/Envs',
  };
  return { reads, sent, octokit, deps };
}

describe('a push while KINDLER_SITES is set', () => {
  it('is answered neutral on its commit, and the sites are not kept', async () => {
    const w = world('sites:\n  - name: eu-1\n');
    const outcome = await handlePush(push(), w.octokit, w.deps as never);
    expect(outcome).toEqual({
      outcome: 'ignored',
      error: "the bot's KINDLER_SITES is set, so the sites of .github/kindler.yml are not used",
    });
    expect(w.reads).toEqual([
      {
        owner: 'acme',
        repo: 'envs',
        path: '.github/kindler.yml',
        ref: SHA,
        mediaType: { format: 'raw' },
      },
    ]);
    expect(w.sent).toEqual([
      [
        expect.objectContaining({
          kind: 'check-run',
          name: 'kindler/sites',
          headSha: SHA,
          conclusion: 'neutral',
          title: 'Sites not used: KINDLER_SITES is set',
          summary:
            "the bot's KINDLER_SITES is set, so the sites of .github/kindler.yml are not used.",
        }),
        expect.objectContaining({ key: `sites:${SHA}` }),
      ],
    ]);
  });

  it('a file without sites is no change, and is not answered', async () => {
    const w = world('auto_repair: off\n');
    expect(await handlePush(push(), w.octokit, w.deps as never)).toEqual({ outcome: 'unchanged' });
    expect(w.sent).toEqual([]);
  });

  it('pushes elsewhere are not read', async () => {
    for (const over of [
      { repo: { owner: 'acme', repo: 'web' } },
      { ref: 'refs/heads/topic' },
      { ref: 'refs/tags/v1' },
      { deleted: true },
      { touched: ['README.md'] },
    ]) {
      const w = world('sites:\n  - name: eu-1\n');
      expect(await handlePush(push(over), w.octokit, w.deps as never)).toBeNull();
      expect(w.reads).toEqual([]);
    }
    // Past 2,048 commits GitHub does not list them all: read, whatever they touched.
    const w = world('sites:\n  - name: eu-1\n');
    await handlePush(push({ touched: [], commitsListed: 2048 }), w.octokit, w.deps as never);
    expect(w.reads).toHaveLength(1);
  });
});
