// The slice of GitHub's API the branch store uses, the GraphQL queries it sends, and one call with
// its failure said (transient or not).
import { byText, TransientError, httpStatusOf } from '../domain/index.js';

/** The slice of Octokit this store uses (Probot's context.octokit and @octokit/rest both fit). */
export interface GitHubApi {
  rest: {
    repos: {
      getBranch(p: {
        owner: string;
        repo: string;
        branch: string;
      }): Promise<{ data: { commit: { sha: string; commit: { tree: { sha: string } } } } }>;
    };
    git: {
      getRef(p: {
        owner: string;
        repo: string;
        ref: string;
      }): Promise<{ data: { object: { sha: string } } }>;
      getTree(p: {
        owner: string;
        repo: string;
        tree_sha: string;
        recursive?: string;
      }): Promise<{ data: { tree: { path?: string; type?: string; sha?: string | null }[] } }>;
      getBlob(p: {
        owner: string;
        repo: string;
        file_sha: string;
      }): Promise<{ data: { content: string; encoding: string } }>;
      createTree(p: {
        owner: string;
        repo: string;
        base_tree?: string;
        tree: { path: string; mode: '100644'; type: 'blob'; content?: string; sha?: null }[];
      }): Promise<{ data: { sha: string } }>;
      createCommit(p: {
        owner: string;
        repo: string;
        message: string;
        tree: string;
        parents: string[];
        author?: { name: string; email: string };
      }): Promise<{ data: { sha: string } }>;
      createRef(p: { owner: string; repo: string; ref: string; sha: string }): Promise<unknown>;
      updateRef(p: {
        owner: string;
        repo: string;
        ref: string;
        sha: string;
        force?: boolean;
      }): Promise<unknown>;
      deleteRef(p: { owner: string; repo: string; ref: string }): Promise<unknown>;
    };
  };
  graphql<T>(query: string, variables: Record<string, unknown>): Promise<T>;
}

// Every branch, read from both ends at once: one request carries the next 100 refs in ascending
// and the next 100 in descending order, so n branches cost ceil(n / 200) requests.
export const refsQuery = (withTree: boolean) => {
  const connection = (alias: 'asc' | 'desc') => `${alias}: refs(
      refPrefix: "refs/heads/", first: 100, after: $${alias},
      orderBy: { field: ALPHABETICAL, direction: ${alias.toUpperCase()} }
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { name target { oid${withTree ? ' ... on Commit { file(path: $path) { oid } }' : ''} } }
    }`;
  const path = withTree ? ', $path: String!' : '';
  return `query($owner: String!, $name: String!, $asc: String, $desc: String${path}) {
  repository(owner: $owner, name: $name) {
    ${connection('asc')}
    ${connection('desc')}
  }
}`;
};

interface RefNode {
  name: string;
  target: { oid: string; file?: { oid: string } | null };
}
interface RefConnection {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: RefNode[];
}
interface RefsPage {
  repository: { asc: RefConnection; desc: RefConnection };
}

export const REFS_QUERY = refsQuery(false);

// The same, with the id of one directory's tree on each branch head (null when absent).
export const TREES_QUERY = refsQuery(true);

/**
 * A call to GitHub's API, its failure named by `action`: a 5xx or 429 is passing (TransientError,
 * retried), any other answer GitHub gave a plain error; what is not GitHub's answer (a Failure,
 * a bug) goes up as it is.
 */
export async function githubCall<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = httpStatusOf(error);
    const detail = code
      ? `GitHub answered ${code}: ${(error as Error).message}`
      : (error as Error).message;
    if (code === undefined && !(error instanceof Error && 'request' in error)) throw error;
    throw code !== undefined && (code >= 500 || code === 429)
      ? new TransientError(`${action}: ${detail}`, { cause: error })
      : new Error(`${action}: ${detail}`, { cause: error });
  }
}

/** Every branch the refs query names, read from both ends until they meet, sorted by name. */
export async function pagesOfRefs<T>(
  api: GitHubApi,
  repo: { owner: string; repo: string },
  query: string,
  vars: Record<string, unknown>,
  map: (node: RefNode) => T,
): Promise<T[]> {
  const seen = new Map<string, T>();
  let cursors: { asc: string | null; desc: string | null } = { asc: null, desc: null };
  for (;;) {
    const { asc, desc } = (
      await api.graphql<RefsPage>(query, {
        owner: repo.owner,
        name: repo.repo,
        ...cursors,
        ...vars,
      })
    ).repository;
    const before = seen.size;
    for (const node of [...asc.nodes, ...desc.nodes]) seen.set(node.name, map(node));
    // Done when either end has run through, when the two ends have met, or (branches deleted
    // meanwhile) when a request brings nothing new.
    if (
      !asc.pageInfo.hasNextPage ||
      !desc.pageInfo.hasNextPage ||
      seen.size >= asc.totalCount ||
      seen.size === before
    )
      break;
    cursors = { asc: asc.pageInfo.endCursor, desc: desc.pageInfo.endCursor };
  }
  return [...seen.entries()].sort(([a], [b]) => byText(a, b)).map(([, value]) => value);
}
