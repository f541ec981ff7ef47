// A repository on GitHub as the Git Database API, GraphQL and Deployments API see it, for the
// tests of what the bot writes there: objects hashed as git hashes them (so a tree id computed by
// the bot matches), refs that refuse what GitHub refuses (a ref that exists, an update that is not
// a fast-forward, a delete of a ref that is gone: 422), trees built on `base_tree` with
// `sha: null` deleting a path, and GraphQL documents executed against GitHub's own schema
// (@octokit/graphql-schema) — an unknown field is an error, as on GitHub. Deployments answer as
// GitHub does: a `ref` that does not resolve is 422, commit statuses are verified unless
// `required_contexts: []` (409), a status description over 140 characters is 422, and a `success`
// with `auto_inactive` marks only the earlier non-transient deployments inactive.
// Requests come through nock (`intercept`) or any server (`handle`); every call is counted.
import crypto from 'node:crypto';
import { schema as published } from '@octokit/graphql-schema';
import { buildClientSchema, graphql, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import nock from 'nock';
import { checkGitHubRequest } from './github-contract.js';

let schema: GraphQLSchema | null = null;
// GitHub's published schema breaks graphql-js's own consistency rules in places (deprecations
// on interface fields); the documents are still checked against it field by field.
const githubSchema = () =>
  (schema ??= buildClientSchema(published.json as unknown as IntrospectionQuery, {
    assumeValid: true,
  }));

type Blob = { type: 'blob'; content: Buffer };
type TreeEntry = { name: string; mode: string; type: 'blob' | 'tree'; oid: string };
type Tree = { type: 'tree'; entries: TreeEntry[] };
type Commit = { type: 'commit'; tree: string; parents: string[]; message: string };
type GitObject = Blob | Tree | Commit;

export interface Deployment {
  id: number;
  repo: string;
  sha: string;
  ref: string;
  environment: string;
  transient: boolean;
  production: boolean;
  request: Record<string, unknown>;
  statuses: Record<string, unknown>[];
}

interface Repo {
  objects: Map<string, GitObject>;
  refs: Map<string, string>;
}

const hash = (type: string, body: Buffer) => {
  const full = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  return crypto.createHash('sha1').update(full).digest('hex');
};

export class GitHubGit {
  readonly repos = new Map<string, Repo>();
  readonly deployments: Deployment[] = [];
  /** Every request answered here: `METHOD /path` (GraphQL as `POST /graphql`). */
  readonly calls: string[] = [];
  /** Commit statuses GitHub would verify for a deployment without `required_contexts: []`. */
  readonly pendingContexts = new Set<string>();
  private ids = 5000;

  constructor(readonly defaultBranch = 'main') {}

  /** The repository, made with one commit on the default branch (a README) when new. */
  repo(full: string): Repo {
    let repo = this.repos.get(full);
    if (!repo) {
      repo = { objects: new Map(), refs: new Map() };
      this.repos.set(full, repo);
      this.commit(full, this.defaultBranch, { 'README.md': `# ${full}\n` }, 'initial');
    }
    return repo;
  }

  /** Commits `files` (null deletes) on top of `branch`, as a person pushing would; the new sha. */
  commit(
    full: string,
    branch: string,
    files: Record<string, string | null>,
    message = 'change',
  ): string {
    const repo = this.repo(full);
    const parent = repo.refs.get(`heads/${branch}`) ?? repo.refs.get(`heads/${this.defaultBranch}`);
    const base = parent ? (repo.objects.get(parent) as Commit).tree : null;
    const tree = this.buildTree(
      repo,
      base,
      Object.entries(files).map(([path, content]) =>
        content === null
          ? { path, mode: '100644', type: 'blob', sha: null }
          : { path, mode: '100644', type: 'blob', content },
      ),
    );
    const sha = this.putCommit(repo, tree, parent ? [parent] : [], message);
    repo.refs.set(`heads/${branch}`, sha);
    return sha;
  }

  /** The files of a branch (or commit) under `prefix`, path → content. */
  files(full: string, refOrSha: string, prefix = ''): Record<string, string> {
    const repo = this.repo(full);
    const sha = repo.refs.get(`heads/${refOrSha}`) ?? refOrSha;
    const commit = repo.objects.get(sha) as Commit | undefined;
    if (!commit) throw new Error(`no ${refOrSha} in ${full}`);
    const out: Record<string, string> = {};
    for (const e of this.walk(repo, commit.tree, ''))
      if (e.path.startsWith(prefix) && e.type === 'blob')
        out[e.path] = (repo.objects.get(e.oid) as Blob).content.toString();
    return out;
  }

  /** The message of a branch's head commit. */
  headMessage(full: string, branch: string): string | null {
    const repo = this.repo(full);
    const sha = repo.refs.get(`heads/${branch}`);
    return sha ? (repo.objects.get(sha) as Commit).message : null;
  }

  /** The states a deployment went through, oldest first. */
  states(id: number): string[] {
    return this.deployments.find((d) => d.id === id)?.statuses.map((s) => String(s.state)) ?? [];
  }

  /** Answers api.github.com through nock (persisting) for what this stand-in knows. */
  intercept(api = 'https://api.github.com'): nock.Scope {
    // nock 15 hands a reply function the request (a fetch Request).
    const handle = (method: string) => async (request: Request) => {
      const url = new URL(request.url);
      const params = Object.fromEntries(url.searchParams);
      const text = await request.text();
      const body = text ? JSON.parse(text) : undefined;
      const problem = checkGitHubRequest(method, url.pathname, params, body);
      if (problem) return [422, { message: 'Validation Failed', errors: [problem] }];
      return (
        (await this.handle(method, url.pathname, params, body)) ?? [404, { message: 'Not Found' }]
      );
    };
    const mine = (path: string) =>
      path === '/graphql' ||
      /^\/repos\/[^/]+\/[^/]+\/(git\/|branches\/|deployments)/.test(path.split('?')[0]!);
    return nock(api)
      .persist()
      .get(mine)
      .reply(handle('GET'))
      .post(mine)
      .reply(handle('POST'))
      .patch(mine)
      .reply(handle('PATCH'))
      .delete(mine)
      .reply(handle('DELETE'));
  }

  async handle(
    method: string,
    path: string,
    params: Record<string, string>,
    raw: unknown,
  ): Promise<[number, unknown] | null> {
    const body = (typeof raw === 'string' && raw ? JSON.parse(raw) : (raw ?? {})) as Record<
      string,
      any
    >;
    this.calls.push(`${method} ${decodeURIComponent(path)}`);
    if (method === 'POST' && path === '/graphql') return [200, await this.graphql(body)];
    const m = path.match(/^\/repos\/([^/]+\/[^/]+)\/(.*)$/);
    if (!m) return null;
    const full = m[1]!;
    const rest = m[2]!;
    const repo = this.repo(full);
    const no = (message: string): [number, unknown] => [422, { message }];
    let r: RegExpMatchArray | null;
    if (method === 'GET' && (r = rest.match(/^branches\/(.+)$/))) {
      const sha = repo.refs.get(`heads/${decodeURIComponent(r[1]!)}`);
      if (!sha) return [404, { message: 'Branch not found' }];
      const commit = repo.objects.get(sha) as Commit;
      return [200, { name: r[1], commit: { sha, commit: { tree: { sha: commit.tree } } } }];
    }
    if (method === 'GET' && (r = rest.match(/^git\/trees\/([^/]+)$/))) {
      let oid = decodeURIComponent(r[1]!);
      const object = repo.objects.get(oid);
      if (object?.type === 'commit') oid = object.tree;
      if (repo.objects.get(oid)?.type !== 'tree') return [404, { message: 'Not Found' }];
      const entries = params.recursive
        ? this.walk(repo, oid, '')
        : (repo.objects.get(oid) as Tree).entries.map((e) => ({ ...e, path: e.name }));
      return [
        200,
        {
          sha: oid,
          truncated: false,
          tree: entries.map((e) => ({ path: e.path, mode: e.mode, type: e.type, sha: e.oid })),
        },
      ];
    }
    if (method === 'GET' && (r = rest.match(/^git\/blobs\/([0-9a-f]{40})$/))) {
      const blob = repo.objects.get(r[1]!);
      if (blob?.type !== 'blob') return [404, { message: 'Not Found' }];
      return [
        200,
        {
          sha: r[1],
          size: blob.content.length,
          encoding: 'base64',
          content: blob.content.toString('base64'),
        },
      ];
    }
    if (method === 'POST' && rest === 'git/trees') {
      if (body.base_tree && repo.objects.get(body.base_tree)?.type !== 'tree')
        return no('Invalid tree info');
      try {
        const sha = this.buildTree(repo, body.base_tree ?? null, body.tree);
        return [201, { sha, truncated: false, tree: [] }];
      } catch (error) {
        return no((error as Error).message);
      }
    }
    if (method === 'POST' && rest === 'git/commits') {
      if (repo.objects.get(body.tree)?.type !== 'tree') return no('Tree SHA does not exist');
      for (const p of body.parents ?? [])
        if (repo.objects.get(p)?.type !== 'commit') return no('Parent SHA does not exist');
      const sha = this.putCommit(repo, body.tree, body.parents ?? [], String(body.message));
      return [201, { sha, tree: { sha: body.tree }, message: body.message }];
    }
    if (method === 'POST' && rest === 'git/refs') {
      const ref = String(body.ref);
      if (!/^refs\/[^/]+\/.+/.test(ref)) return no('Reference name must start with refs/');
      if (repo.objects.get(body.sha)?.type !== 'commit') return no('Object does not exist');
      const key = ref.slice('refs/'.length);
      if (repo.refs.has(key)) return no('Reference already exists');
      repo.refs.set(key, body.sha);
      return [201, { ref, object: { sha: body.sha, type: 'commit' } }];
    }
    // Octokit sends `heads/x` as one path segment (heads%2Fx); GitHub reads either.
    if ((r = decodeURIComponent(rest).match(/^git\/refs\/(heads\/.+)$/))) {
      const key = r[1]!;
      const current = repo.refs.get(key);
      if (!current) return no('Reference does not exist');
      if (method === 'DELETE') {
        repo.refs.delete(key);
        return [204, ''];
      }
      if (method === 'PATCH') {
        if (repo.objects.get(body.sha)?.type !== 'commit') return no('Object does not exist');
        if (!body.force && !this.descends(repo, body.sha, current))
          return no('Update is not a fast forward');
        repo.refs.set(key, body.sha);
        return [200, { ref: `refs/${key}`, object: { sha: body.sha, type: 'commit' } }];
      }
    }
    if (method === 'POST' && rest === 'deployments') {
      const ref = String(body.ref);
      const sha = repo.refs.get(`heads/${ref}`) ?? (repo.objects.has(ref) ? ref : null);
      if (!sha) return [422, { message: `No ref found for: ${ref}` }];
      if (body.required_contexts === undefined && this.pendingContexts.size)
        return [
          409,
          {
            message: `Conflict: Commit status checks failed for ${ref}.`,
            errors: [...this.pendingContexts].map((context) => ({ context, state: 'pending' })),
          },
        ];
      const deployment: Deployment = {
        id: ++this.ids,
        repo: full,
        sha,
        ref,
        environment: String(body.environment ?? 'production'),
        transient: body.transient_environment === true,
        production: body.production_environment ?? body.environment === 'production',
        request: body,
        statuses: [],
      };
      this.deployments.push(deployment);
      return [201, { id: deployment.id, sha, ref, environment: deployment.environment }];
    }
    if (method === 'POST' && (r = rest.match(/^deployments\/(\d+)\/statuses$/))) {
      const deployment = this.deployments.find((d) => d.id === Number(r![1]) && d.repo === full);
      if (!deployment) return [404, { message: 'Not Found' }];
      if (typeof body.description === 'string' && body.description.length > 140)
        return no('description is too long (maximum is 140 characters)');
      deployment.statuses.push(body);
      if (body.state === 'success' && body.auto_inactive !== false)
        for (const other of this.deployments)
          if (
            other !== deployment &&
            other.repo === full &&
            other.environment === deployment.environment &&
            !other.transient &&
            !other.production &&
            other.statuses.at(-1)?.state === 'success'
          )
            other.statuses.push({ state: 'inactive' });
      return [201, { id: ++this.ids, state: body.state }];
    }
    if (method === 'GET' && rest === 'deployments') {
      const list = this.deployments.filter(
        (d) =>
          d.repo === full &&
          (!params.environment || d.environment === params.environment) &&
          (!params.sha || d.sha === params.sha),
      );
      return [
        200,
        list.map((d) => ({
          id: d.id,
          sha: d.sha,
          ref: d.ref,
          environment: d.environment,
          payload: d.request.payload ?? {},
        })),
      ];
    }
    return null;
  }

  private async graphql(body: Record<string, any>): Promise<unknown> {
    const root = {
      repository: ({ owner, name }: { owner: string; name: string }) =>
        this.repos.has(`${owner}/${name}`) ? this.repositoryNode(`${owner}/${name}`) : null,
    };
    return graphql({
      schema: githubSchema(),
      source: String(body.query),
      variableValues: body.variables ?? {},
      rootValue: root,
    });
  }

  private repositoryNode(full: string) {
    const repo = this.repo(full);
    const node = (oid: string, path = ''): unknown => {
      const object = repo.objects.get(oid);
      if (!object) return null;
      if (object.type === 'blob') {
        const binary = object.content.includes(0);
        return {
          __typename: 'Blob',
          oid,
          byteSize: object.content.length,
          isBinary: binary,
          isTruncated: false,
          text: binary ? null : object.content.toString(),
        };
      }
      if (object.type === 'tree')
        return {
          __typename: 'Tree',
          oid,
          entries: object.entries.map((e) => ({
            name: e.name,
            path: path ? `${path}/${e.name}` : e.name,
            oid: e.oid,
            type: e.type,
            mode: parseInt(e.mode, 8),
            size: e.type === 'blob' ? (repo.objects.get(e.oid) as Blob).content.length : 0,
            object: () => node(e.oid, path ? `${path}/${e.name}` : e.name),
          })),
        };
      return {
        __typename: 'Commit',
        oid,
        tree: node(object.tree),
        file: ({ path: p }: { path: string }) => {
          const entry = this.lookup(repo, object.tree, p);
          return entry
            ? {
                name: p.split('/').at(-1),
                path: p,
                oid: entry.oid,
                type: entry.type,
                object: () => node(entry.oid, p),
              }
            : null;
        },
      };
    };
    const refNode = (name: string, sha: string) => ({ name, target: node(sha) });
    return {
      ref: ({ qualifiedName }: { qualifiedName: string }) => {
        const key = qualifiedName.replace(/^refs\//, '');
        const sha = repo.refs.get(key);
        return sha ? refNode(key.replace(/^heads\//, ''), sha) : null;
      },
      refs: (args: {
        refPrefix: string;
        first?: number;
        after?: string;
        orderBy?: { direction: string };
      }) => {
        if ((args.first ?? 0) > 100) throw new Error('`first` is limited to 100');
        const prefix = args.refPrefix.replace(/^refs\//, '');
        const names = [...repo.refs.keys()]
          .filter((k) => k.startsWith(prefix))
          .map((k) => k.slice(prefix.length))
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        if (args.orderBy?.direction === 'DESC') names.reverse();
        const start = args.after ? Number(Buffer.from(args.after, 'base64').toString()) : 0;
        const end = Math.min(names.length, start + (args.first ?? 100));
        return {
          totalCount: names.length,
          pageInfo: {
            hasNextPage: end < names.length,
            endCursor: end > start ? Buffer.from(String(end)).toString('base64') : null,
          },
          nodes: names.slice(start, end).map((n) => refNode(n, repo.refs.get(prefix + n)!)),
        };
      },
      object: ({ expression, oid }: { expression?: string; oid?: string }) => {
        if (oid) return node(oid);
        if (!expression) return null;
        const [rev, path] = expression.split(':') as [string, string | undefined];
        const sha = repo.refs.get(`heads/${rev}`) ?? rev;
        const commit = repo.objects.get(sha);
        if (commit?.type !== 'commit') return null;
        if (path === undefined) return node(sha);
        if (path === '') return node(commit.tree);
        const entry = this.lookup(repo, commit.tree, path.replace(/\/$/, ''));
        return entry ? node(entry.oid, path.replace(/\/$/, '')) : null;
      },
    };
  }

  private lookup(repo: Repo, tree: string, path: string): TreeEntry | null {
    let entries = (repo.objects.get(tree) as Tree).entries;
    const parts = path.split('/');
    for (const [i, part] of parts.entries()) {
      const entry = entries.find((e) => e.name === part);
      if (!entry) return null;
      if (i === parts.length - 1) return entry;
      if (entry.type !== 'tree') return null;
      entries = (repo.objects.get(entry.oid) as Tree).entries;
    }
    return null;
  }

  private walk(repo: Repo, tree: string, prefix: string): (TreeEntry & { path: string })[] {
    return (repo.objects.get(tree) as Tree).entries.flatMap((e) => {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      return e.type === 'tree'
        ? [{ ...e, path }, ...this.walk(repo, e.oid, path)]
        : [{ ...e, path }];
    });
  }

  private descends(repo: Repo, sha: string, ancestor: string): boolean {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length) {
      const next = queue.pop()!;
      if (next === ancestor) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...((repo.objects.get(next) as Commit | undefined)?.parents ?? []));
    }
    return false;
  }

  private putCommit(repo: Repo, tree: string, parents: string[], message: string): string {
    const when = `${Math.floor(Date.now() / 1000)} +0000`;
    const text = [
      `tree ${tree}`,
      ...parents.map((p) => `parent ${p}`),
      `author kindler <k@example.test> ${when}`,
      `committer kindler <k@example.test> ${when}`,
      '',
      message,
    ].join('\n');
    const sha = hash('commit', Buffer.from(text));
    repo.objects.set(sha, { type: 'commit', tree, parents, message });
    return sha;
  }

  /** A tree from `base` with `changes` applied, as POST /git/trees does. */
  private buildTree(
    repo: Repo,
    base: string | null,
    changes: { path: string; mode: string; type: string; sha?: string | null; content?: string }[],
  ): string {
    type Dir = Map<string, { entry?: TreeEntry; dir?: Dir }>;
    const load = (oid: string | null): Dir =>
      new Map(
        (oid ? (repo.objects.get(oid) as Tree).entries : []).map((e) => [e.name, { entry: e }]),
      );
    const root = load(base);
    for (const change of changes) {
      if (change.sha !== undefined && change.content !== undefined)
        throw new Error('tree.sha and tree.content cannot both be given');
      const parts = change.path.split('/');
      let dir = root;
      for (const part of parts.slice(0, -1)) {
        let slot = dir.get(part);
        if (!slot) dir.set(part, (slot = { dir: new Map() }));
        if (!slot.dir) {
          if (slot.entry?.type !== 'tree')
            throw new Error(`tree.path ${change.path} is not a directory`);
          slot.dir = load(slot.entry.oid);
        }
        dir = slot.dir;
      }
      const name = parts.at(-1)!;
      if (change.sha === null && change.content === undefined) {
        dir.delete(name);
        continue;
      }
      let oid: string;
      if (change.content !== undefined) {
        const content = Buffer.from(change.content);
        oid = hash('blob', content);
        repo.objects.set(oid, { type: 'blob', content });
      } else {
        oid = String(change.sha);
        if (repo.objects.get(oid)?.type !== change.type)
          throw new Error(`tree.sha ${oid} is not a valid ${change.type}`);
      }
      dir.set(name, {
        entry: { name, mode: change.mode, type: change.type as 'blob' | 'tree', oid },
      });
    }
    const write = (dir: Dir): string | null => {
      const entries: TreeEntry[] = [];
      for (const [name, slot] of dir) {
        if (slot.dir) {
          const oid = write(slot.dir);
          if (oid) entries.push({ name, mode: '040000', type: 'tree', oid });
        } else if (slot.entry) entries.push(slot.entry);
      }
      if (!entries.length) return null; // git keeps no empty directory
      entries.sort((a, b) =>
        Buffer.compare(
          Buffer.from(a.type === 'tree' ? `${a.name}/` : a.name),
          Buffer.from(b.type === 'tree' ? `${b.name}/` : b.name),
        ),
      );
      const body = Buffer.concat(
        entries.map((e) =>
          Buffer.concat([
            Buffer.from(`${e.mode.replace(/^0/, '')} ${e.name}\0`),
            Buffer.from(e.oid, 'hex'),
          ]),
        ),
      );
      const oid = hash('tree', body);
      repo.objects.set(oid, { type: 'tree', entries });
      return oid;
    };
    const oid = write(root);
    if (oid) return oid;
    const empty = hash('tree', Buffer.alloc(0));
    repo.objects.set(empty, { type: 'tree', entries: [] });
    return empty;
  }
}
