// The config repository as the app sees it: an installation client found from the repository
// (no webhook needed first), and the branch store over the GitHub API that the app uses when no
// GIT_REPO_URL is set. The client is created on first use and Probot keeps its token fresh.
import { readFile } from 'node:fs/promises';
import type { Probot } from 'probot';
import { GitHubBranchStore } from '../git/github-branch-store.js';
import type { GitHubApi } from '../git/github-api.js';
import type { GitHubReadApi } from '../git/github-head.js';
import type { Config } from '../config/config.js';
import { splitRepo, type GitHubClient, type RepoRef } from './types.js';

/** The installation that covers `repo`, looked up once. */
export function installationId(
  probot: Probot,
  repo: RepoRef,
  known?: () => Promise<number | null>,
): () => Promise<number> {
  let id: number | null = null;
  return async () => {
    id ??= (await known?.()) ?? null;
    if (id === null) {
      const app = (await probot.auth()) as unknown as GitHubClient;
      id = (await app.rest.apps.getRepoInstallation({ ...repo })).data.id;
    }
    return id;
  };
}

/** An installation client for `repo`, looking the installation up once. */
export function installationClient(
  probot: Probot,
  repo: RepoRef,
  known?: () => Promise<number | null>,
): () => Promise<GitHubClient> {
  const id = installationId(probot, repo, known);
  return async () => (await probot.auth(await id())) as unknown as GitHubClient;
}

const GIT_METHODS = [
  'getRef',
  'getTree',
  'getBlob',
  'createTree',
  'createCommit',
  'createRef',
  'updateRef',
  'deleteRef',
] as const;

/** The GitHubApi slice, each call made with the client `get` resolves at that moment. */
export function lazyGitHubApi(get: () => Promise<GitHubApi>): GitHubApi {
  const via =
    <A extends unknown[]>(pick: (api: GitHubApi) => (...args: A) => Promise<unknown>) =>
    async (...args: A) =>
      pick(await get())(...args);
  return {
    rest: {
      repos: { getBranch: via((api) => api.rest.repos.getBranch) },
      git: Object.fromEntries(
        GIT_METHODS.map((m) => [
          m,
          via((api) => api.rest.git[m] as (...args: unknown[]) => Promise<unknown>),
        ]),
      ),
    },
    graphql: via((api) => api.graphql),
  } as unknown as GitHubApi;
}

/** An installation client per repository (looked up once each), for reading pull-request heads. */
export function repositoryReader(probot: Probot): (repo: string) => Promise<GitHubReadApi> {
  const clients = new Map<string, () => Promise<GitHubClient>>();
  return async (repo) => {
    const key = repo.toLowerCase();
    let client = clients.get(key);
    if (!client) clients.set(key, (client = installationClient(probot, splitRepo(repo))));
    return (await client()) as unknown as GitHubReadApi;
  };
}

/** The app's branch store: the config repo through the GitHub API, when it applies. */
export function configRepoBranches(
  probot: Probot,
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): GitHubBranchStore | null {
  if (config.GIT_REPO_URL || !config.KINDLER_CONFIG_REPO) return null;
  const { owner, repo } = splitRepo(config.KINDLER_CONFIG_REPO);
  const id = installationId(probot, { owner, repo });
  const client = async () => (await probot.auth(await id())) as unknown as GitHubClient;
  return new GitHubBranchStore(
    lazyGitHubApi(async () => (await client()) as unknown as GitHubApi),
    {
      owner,
      repo,
      defaultBranch: config.GIT_DEFAULT_BRANCH,
      author: { name: config.GIT_COMMIT_NAME, email: config.GIT_COMMIT_EMAIL },
      host: env.GHE_HOST,
      // Argo CD clones the config repository as the app itself (repository Secret githubApp*).
      app: async () => ({
        appId: String(env.APP_ID ?? ''),
        installationId: await id(),
        privateKey: await privateKey(env),
      }),
    },
  );
}

async function privateKey(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.PRIVATE_KEY) return env.PRIVATE_KEY.replace(/\\n/g, '\n');
  if (env.PRIVATE_KEY_PATH) return readFile(env.PRIVATE_KEY_PATH, 'utf8');
  throw new Error(
    'PRIVATE_KEY or PRIVATE_KEY_PATH is needed for Argo CD to clone the config repository',
  );
}
