// Branches in the config repository through the GitHub Git Database API, in the fewest calls
// (docs/external-apis.md §5.4): a new branch is one GraphQL read of both heads → createTree (inline
// contents on the default branch's tree) → createCommit → createRef; an unchanged one is that read
// alone (its deploy/ tree id against the one computed here); a change sends only the files that
// changed. Listing uses GraphQL, 200 refs a request (100 from each end) — never a call per branch.
import { Failure, httpStatusOf, type EnvName } from '../domain/index.js';
import { refuseBadArchive, refuseReserved } from './branch-store.js';
import type { BranchFile, BranchInfo, BranchTree } from './branch-store.js';
import type { BranchStore, Ensured, RepositoryAccess } from './branch-store.js';
import { blobSha, treeSha } from './tree-hash.js';
import { REFS_QUERY, TREES_QUERY, githubCall, pagesOfRefs, type GitHubApi } from './github-api.js';

export { blobSha };

/** The directory of a branch that is the environment's: the rest is the default branch's. */
const DEPLOY = 'deploy/';

export interface GitHubBranchSettings {
  owner: string;
  repo: string;
  defaultBranch: string;
  author?: { name: string; email: string };
  /** GitHub Enterprise Server host (GHE_HOST); github.com when absent. */
  host?: string | undefined;
  /** The GitHub App credentials Argo CD clones with (repository Secret githubApp* fields). */
  app?: () => Promise<{ appId: string; installationId: number; privateKey: string }>;
}

const status = httpStatusOf;

export class GitHubBranchStore implements BranchStore {
  readonly description: string;
  constructor(
    private readonly api: GitHubApi,
    private readonly s: GitHubBranchSettings,
  ) {
    this.description = `GitHub ${s.owner}/${s.repo}`;
  }

  async access(): Promise<RepositoryAccess> {
    const host = this.s.host ?? 'github.com';
    const url = `https://${host}/${this.s.owner}/${this.s.repo}.git`;
    if (!this.s.app)
      throw new Failure(
        'not_configured',
        `Argo CD needs credentials for ${url}. To resolve, run as the GitHub App (APP_ID, ` +
          `PRIVATE_KEY) or set ARGOCD_REPO_URL to a repository Argo CD can already read`,
      );
    const app = await this.s.app();
    return {
      url,
      credentials: {
        githubAppID: app.appId,
        githubAppInstallationID: String(app.installationId),
        githubAppPrivateKey: app.privateKey,
        ...(this.s.host ? { githubAppEnterpriseBaseUrl: `https://${this.s.host}/api/v3` } : {}),
      },
    };
  }

  private get repo() {
    return { owner: this.s.owner, repo: this.s.repo };
  }

  async list(): Promise<BranchInfo[]> {
    return githubCall('listing branches', () =>
      pagesOfRefs<BranchInfo>(this.api, this.s, REFS_QUERY, {}, (n) => ({
        name: n.name,
        sha: n.target.oid,
      })),
    );
  }

  async trees(prefix: string): Promise<BranchTree[]> {
    const path = prefix.replace(/\/$/, '');
    return githubCall('listing branches', () =>
      pagesOfRefs<BranchTree>(this.api, this.s, TREES_QUERY, { path }, (n) => ({
        name: n.name,
        sha: n.target.oid,
        tree: n.target.file?.oid ?? null,
      })),
    );
  }

  async get(name: string): Promise<BranchInfo | null> {
    return githubCall(`reading branch "${name}"`, async () => {
      const head = await this.head(name);
      return head ? { name, sha: head.sha } : null;
    });
  }

  async ensure(
    name: EnvName,
    files: BranchFile[],
    message: string,
    known: BranchFile[] | null = null,
  ): Promise<Ensured> {
    refuseReserved(name);
    return githubCall(`writing branch "${name}" in ${this.description}`, async () => {
      // One GraphQL query reads both heads and their deploy/ tree ids: an unchanged branch costs
      // that one call, a new one 4 in all, a change to a deploy/ the caller knows 4 too.
      const [existing, defaultHead] = await this.heads([name, this.s.defaultBranch]);
      const base = existing ?? defaultHead ?? null;
      const wanted = treeSha(files, DEPLOY);
      if (existing?.deploy === wanted) return 'unchanged';
      // What deploy/ holds on the base, path → blob id: from `known` when it is still exactly
      // that, read otherwise (a branch made from a default branch that has a deploy/ of its own
      // must not keep its files).
      let current: Map<string, string>;
      if (!base?.deploy) current = new Map();
      else if (existing && known && base.deploy === treeSha(known, DEPLOY))
        current = new Map(known.map((f) => [f.path, blobSha(f.content)]));
      else
        current = new Map(
          (
            await this.api.rest.git.getTree({
              ...this.repo,
              tree_sha: base.deploy,
              recursive: 'true',
            })
          ).data.tree
            .filter((e) => e.type === 'blob' && e.path && e.sha)
            .map((e) => [`${DEPLOY}${e.path}`, e.sha as string]),
        );
      const tree: { path: string; mode: '100644'; type: 'blob'; content?: string; sha?: null }[] =
        files
          .filter((f) => current.get(f.path) !== blobSha(f.content))
          .map((f) => ({ path: f.path, mode: '100644', type: 'blob', content: f.content }));
      for (const path of current.keys())
        if (!files.some((f) => f.path === path))
          tree.push({ path, mode: '100644', type: 'blob', sha: null });
      if (existing && !tree.length) return 'unchanged'; // differs in modes only
      const newTree = await this.api.rest.git.createTree({
        ...this.repo,
        ...(base ? { base_tree: base.tree } : {}),
        tree,
      });
      const commit = await this.api.rest.git.createCommit({
        ...this.repo,
        message,
        tree: newTree.data.sha,
        parents: base ? [base.sha] : [],
        ...(this.s.author ? { author: this.s.author } : {}),
      });
      if (existing) {
        await this.api.rest.git.updateRef({
          ...this.repo,
          ref: `heads/${name}`,
          sha: commit.data.sha,
          force: false,
        });
        return 'updated';
      }
      await this.api.rest.git.createRef({
        ...this.repo,
        ref: `refs/heads/${name}`,
        sha: commit.data.sha,
      });
      return 'created';
    });
  }

  async readFiles(name: string, prefix: string): Promise<BranchFile[] | null> {
    return githubCall(`reading branch "${name}"`, async () => {
      const head = await this.head(name);
      if (!head) return null;
      const entries = (
        await this.api.rest.git.getTree({ ...this.repo, tree_sha: head.tree, recursive: 'true' })
      ).data.tree.filter((e) => e.type === 'blob' && e.path?.startsWith(prefix) && e.sha);
      return Promise.all(
        entries.map(async (e) => {
          const blob = (
            await this.api.rest.git.getBlob({ ...this.repo, file_sha: e.sha as string })
          ).data;
          return {
            path: e.path as string,
            content: Buffer.from(
              blob.content,
              blob.encoding === 'base64' ? 'base64' : 'utf8',
            ).toString('utf8'),
          };
        }),
      );
    });
  }

  async remove(name: EnvName): Promise<'deleted' | 'absent'> {
    refuseReserved(name);
    return githubCall(`deleting branch "${name}" in ${this.description}`, async () => {
      try {
        await this.api.rest.git.deleteRef({ ...this.repo, ref: `heads/${name}` });
        return 'deleted';
      } catch (error) {
        if (status(error) === 422 || status(error) === 404) return 'absent';
        throw error;
      }
    });
  }

  async archive(name: string, archiveName: string): Promise<void> {
    refuseReserved(name);
    refuseBadArchive(archiveName);
    await githubCall(`archiving branch "${name}" as "${archiveName}"`, async () => {
      const head = await this.head(name);
      if (!head) return;
      await this.api.rest.git.createRef({
        ...this.repo,
        ref: `refs/heads/${archiveName}`,
        sha: head.sha,
      });
      await this.api.rest.git.deleteRef({ ...this.repo, ref: `heads/${name}` });
    });
  }

  private async heads(
    branches: string[],
  ): Promise<({ sha: string; tree: string; deploy: string | null } | null)[]> {
    const fields = branches
      .map(
        (_, i) =>
          `b${i}: ref(qualifiedName: $q${i}) { target { ... on Commit { oid ` +
          `tree { oid } file(path: "${DEPLOY.replace(/\/$/, '')}") { oid } } } }`,
      )
      .join(' ');
    const vars = branches.map((_, i) => `$q${i}: String!`).join(', ');
    const data = await this.api.graphql<{
      repository: Record<
        string,
        { target: { oid: string; tree: { oid: string }; file: { oid: string } | null } } | null
      >;
    }>(
      `query($owner: String!, $name: String!, ${vars}) { ` +
        `repository(owner: $owner, name: $name) { ${fields} } }`,
      {
        owner: this.s.owner,
        name: this.s.repo,
        ...Object.fromEntries(branches.map((b, i) => [`q${i}`, `refs/heads/${b}`])),
      },
    );
    return branches.map((_, i) => {
      const ref = data.repository[`b${i}`];
      return ref
        ? { sha: ref.target.oid, tree: ref.target.tree.oid, deploy: ref.target.file?.oid ?? null }
        : null;
    });
  }

  private async head(branch: string): Promise<{ sha: string; tree: string } | null> {
    try {
      const { data } = await this.api.rest.repos.getBranch({ ...this.repo, branch });
      return { sha: data.commit.sha, tree: data.commit.commit.tree.sha };
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }
}
