// The GitHub contract check itself: it must refuse what GitHub refuses, and let the rest through.
import { describe, expect, it } from 'vitest';
import { checkGitHubRequest } from '../../test/support/github-contract.js';

const repo = { owner: 'acme', repo: 'platform-config' };

describe('GitHub contract check', () => {
  it('accepts well-formed requests', () => {
    expect(
      checkGitHubRequest(
        'POST',
        '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
        { ...repo, comment_id: 1 },
        { content: 'rocket' },
      ),
    ).toBeNull();
    expect(
      checkGitHubRequest('POST', '/repos/{owner}/{repo}/check-runs', repo, {
        name: 'kindler',
        head_sha: 'a'.repeat(40),
        status: 'in_progress',
      }),
    ).toBeNull();
    expect(
      checkGitHubRequest(
        'POST',
        '/graphql',
        {},
        {
          query: 'query($o:String!,$n:String!){ repository(owner:$o,name:$n){ id } }',
        },
      ),
    ).toBeNull();
  });

  it('refuses what GitHub refuses', () => {
    expect(
      checkGitHubRequest(
        'POST',
        '/repos/{owner}/{repo}/issues/{issue_number}/comments',
        { ...repo, issue_number: 1 },
        { body: 'x'.repeat(65_537) },
      ),
    ).toContain('GitHub refuses more than 65536');
    expect(
      checkGitHubRequest(
        'POST',
        '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
        { ...repo, comment_id: 1 },
        { content: 'tada' },
      ),
    ).toContain('body/content must be equal to one of the allowed values');
    expect(
      checkGitHubRequest('POST', '/repos/{owner}/{repo}/check-runs', repo, {
        name: 'kindler',
        head_sha: 'a'.repeat(40),
        actions: [{ label: 'a label longer than twenty', description: 'd', identifier: 'i' }],
      }),
    ).toContain('must NOT have more than 20 characters');
    expect(checkGitHubRequest('GET', '/repos/{owner}/{repo}/nope', repo, undefined)).toBe(
      "GET /repos/{owner}/{repo}/nope is not in GitHub's REST API",
    );
    expect(
      checkGitHubRequest('POST', '/graphql', {}, { query: '{ repository { nope } }' }),
    ).toMatch(/^GraphQL: /);
  });
});
