// A pull request's head as a source of deploy/: the files under deploy/ of one commit, read
// through GitHub's GraphQL API in two requests at most — the listing (paths and blob ids, nested
// directories in the same request), then the blobs not read before, all in one request. What a
// commit id or a blob id names never changes, so both are kept in the database (git_objects) and
// never fetched twice: a push that changes one file of twenty downloads one blob.
import { byText, Failure } from '../domain/index.js';
import { DEPLOY_LIMITS } from './validate-manifests.js';
import type { Store } from '../store/store.js';
import type { BranchFile } from './branch-store.js';
import { githubCall } from './github-api.js';

/** The slice of Octokit this reader uses. */
export interface GitHubReadApi {
  graphql<T>(query: string, variables: Record<string, unknown>): Promise<T>;
  rest: {
    git: {
      getBlob(p: {
        owner: string;
        repo: string;
        file_sha: string;
      }): Promise<{ data: { content: string; encoding: string } }>;
    };
  };
}

export interface HeadSource {
  /**
   * The files under `prefix` of commit `sha` in `repo` ("owner/name"), paths from the repository
   * root; null when the commit has no such directory. Failure when the commit is not there.
   */
  files(repo: string, sha: string, prefix?: string): Promise<BranchFile[] | null>;
}

/** Directories below deploy/ read in the listing request itself; deeper ones are refused. */
const DEPTH = 6;
/** Blobs asked for in one request. */
const BLOBS_PER_REQUEST = 50;

const entryFields = (depth: number): string =>
  `path type oid mode ` +
  `size${depth > 0 ? ` object { ... on Tree { entries { ${entryFields(depth - 1)} } } }` : ''}`;
const LISTING = `query($owner: String!, $name: String!, $sha: GitObjectID!, $expression: String!) {
  repository(owner: $owner, name: $name) {
    commit: object(oid: $sha) { oid }
    dir: object(expression: $expression) { ... on Tree { entries { ${entryFields(DEPTH)} } } }
  }
}`;

interface Entry {
  path: string;
  type: string;
  oid: string;
  mode: number;
  size: number;
  object?: { entries?: Entry[] } | null;
}
interface Listed {
  path: string;
  oid: string;
  size: number;
}

export class GitHubHeadSource implements HeadSource {
  constructor(
    /** The installation client that can read `repo`. */
    private readonly apiFor: (repo: string) => Promise<GitHubReadApi>,
    private readonly cache: Pick<Store, 'gitObjects' | 'keepGitObjects'>,
  ) {}

  /**
   * Heads read before, from the database only: outside the app (the CLI) nothing can read GitHub,
   * and a head not kept is a clear refusal.
   */
  static keptOnly(cache: Pick<Store, 'gitObjects' | 'keepGitObjects'>): GitHubHeadSource {
    return new GitHubHeadSource(async (repo) => {
      throw new Failure(
        'not_configured',
        `this environment is rendered from a pull request's head in ${repo}, which only the ` +
          'GitHub App reads; run the operation from the app (a comment or the dashboard)',
      );
    }, cache);
  }

  async files(repo: string, sha: string, prefix = 'deploy/'): Promise<BranchFile[] | null> {
    const dir = prefix.replace(/\/$/, '');
    const listingId = `listing:${sha}:${dir}`;
    const known = await this.cache.gitObjects([listingId]);
    let listing: Listed[] | null;
    const cached = known.get(listingId);
    if (cached !== undefined) listing = JSON.parse(cached) as Listed[] | null;
    else {
      listing = await this.list(repo, sha, dir);
      await this.cache.keepGitObjects(new Map([[listingId, JSON.stringify(listing)]]));
    }
    if (listing === null) return null;
    // Bounded before anything is downloaded: one push cannot make the bot read without end.
    const bytes = listing.reduce((n, e) => n + e.size, 0);
    if (listing.length > DEPLOY_LIMITS.files || bytes > DEPLOY_LIMITS.bytes)
      throw new Failure(
        'invalid_input',
        `${dir}/ of ${repo}@${sha.slice(0, 7)} holds ${listing.length} files, ` +
          `${bytes} bytes: more than a deploy takes (${DEPLOY_LIMITS.files} ` +
          `files, ${DEPLOY_LIMITS.bytes} bytes); nothing was deployed`,
      );
    const blobs = await this.cache.gitObjects(listing.map((e) => `blob:${e.oid}`));
    const missing = [
      ...new Map(
        listing.filter((e) => !blobs.has(`blob:${e.oid}`)).map((e) => [e.oid, e]),
      ).values(),
    ];
    if (missing.length) {
      const read = await this.blobs(repo, missing);
      await this.cache.keepGitObjects(read);
      for (const [id, text] of read) blobs.set(id, text);
    }
    return listing.map((e) => ({ path: e.path, content: blobs.get(`blob:${e.oid}`) as string }));
  }

  /** Every file under `dir` of `sha`, with its blob id; null when the commit has no `dir`. */
  private async list(repo: string, sha: string, dir: string): Promise<Listed[] | null> {
    const [owner, name] = repo.split('/') as [string, string];
    const data = await githubCall(`reading ${dir}/ of ${repo}@${sha.slice(0, 7)}`, async () =>
      (await this.apiFor(repo)).graphql<{
        repository: {
          commit: { oid: string } | null;
          dir: { entries?: Entry[] } | null;
        } | null;
      }>(LISTING, { owner, name, sha, expression: `${sha}:${dir}` }),
    );
    if (!data.repository)
      throw new Failure('not_found', `repository ${repo} is not readable by the app`);
    if (!data.repository.commit)
      throw new Failure(
        'not_found',
        `commit ${sha.slice(0, 7)} is not in ${repo} (force-pushed away?); nothing was deployed`,
      );
    if (!data.repository.dir?.entries) return null;
    const out: Listed[] = [];
    const walk = (entries: Entry[], depth: number) => {
      for (const e of entries) {
        if (e.type === 'tree') {
          if (!e.object?.entries)
            throw new Failure(
              'invalid_input',
              `${e.path}: ${dir}/ nests directories deeper ` +
                `than ${DEPTH} levels; nothing was deployed`,
            );
          walk(e.object.entries, depth + 1);
        } else if (e.type !== 'blob' || e.mode === 0o120000)
          throw new Failure(
            'invalid_input',
            `${e.path}: ${e.type === 'commit' ? 'a submodule' : 'a symbolic link'} ` +
              `is not deployed; ${dir}/ holds files only`,
          );
        else out.push({ path: e.path, oid: e.oid, size: e.size });
      }
    };
    walk(data.repository.dir.entries, 0);
    return out.sort((a, b) => byText(a.path, b.path));
  }

  /** The text of each blob, in one request per 50; `blob:<oid>` → text. */
  private async blobs(repo: string, entries: Listed[]): Promise<Map<string, string>> {
    const [owner, name] = repo.split('/') as [string, string];
    const api = await this.apiFor(repo);
    const out = new Map<string, string>();
    for (let i = 0; i < entries.length; i += BLOBS_PER_REQUEST) {
      const batch = entries.slice(i, i + BLOBS_PER_REQUEST);
      const vars = batch.map((_, j) => `$o${j}: GitObjectID!`).join(', ');
      const fields = batch
        .map((_, j) => `o${j}: object(oid: $o${j}) { ... on Blob { text isBinary isTruncated } }`)
        .join(' ');
      const data = await githubCall(`reading ${batch.length} files of ${repo}`, () =>
        api.graphql<{
          repository: Record<
            string,
            { text: string | null; isBinary: boolean | null; isTruncated: boolean } | null
          >;
        }>(
          `query($owner: String!, $name: String!, ${vars}) { repository(owner: ` +
            `$owner, name: $name) { ${fields} } }`,
          { owner, name, ...Object.fromEntries(batch.map((e, j) => [`o${j}`, e.oid])) },
        ),
      );
      for (const [j, entry] of batch.entries()) {
        const blob = data.repository[`o${j}`];
        if (!blob || blob.isBinary || blob.text === null)
          throw new Failure(
            'invalid_input',
            `${entry.path}: a binary file is not deployed; deploy/ holds text manifests only`,
          );
        const text = blob.isTruncated
          ? await githubCall(`reading ${entry.path} of ${repo}`, async () => {
              const { data: raw } = await api.rest.git.getBlob({
                owner,
                repo: name,
                file_sha: entry.oid,
              });
              return Buffer.from(
                raw.content,
                raw.encoding === 'base64' ? 'base64' : 'utf8',
              ).toString('utf8');
            })
          : blob.text;
        out.set(`blob:${entry.oid}`, text);
      }
    }
    return out;
  }
}
