// One branch per environment, on some Git service. Implementations: any Git server through the
// git CLI, or the config repository through the GitHub Git Database API. Reserved branches
// (main master develop release devops, archive/*) are refused whatever the input.
import { Failure, isReservedBranch, type EnvName } from '../domain/index.js';

export interface BranchFile {
  path: string;
  content: string;
}

/**
 * Why `file` cannot be a path in a branch's tree, or null: a control character (a newline would
 * forge tree entries for a tool that reads lines), an empty, `.` or `..` segment, a leading `/`,
 * or a `.git` segment.
 */
export function unsafePath(file: string): string | null {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(file))
    return `${JSON.stringify(file)}: a file name with a control character`;
  const segments = file.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git'))
    return `${JSON.stringify(file)}: a path with an empty, ".", ".." or ".git" segment`;
  return null;
}
export interface BranchInfo {
  name: string;
  sha: string;
}
/**
 * A branch head and the id of one directory's tree on it (null when the branch has no such
 * directory).
 */
export interface BranchTree extends BranchInfo {
  tree: string | null;
}

/** How another system (Argo CD) reaches the branches: URL and repository-Secret credentials. */
export interface RepositoryAccess {
  url: string;
  credentials: Record<string, string>;
}

/** What ensuring a branch did. */
export type Ensured = 'created' | 'updated' | 'unchanged';

export interface BranchStore {
  /** Where the branches live, without credentials: "git https://git.example/org/repo.git". */
  readonly description: string;
  /** Every branch; callers filter reserved and archive/ ones. */
  list(): Promise<BranchInfo[]>;
  get(name: string): Promise<BranchInfo | null>;
  /**
   * Every branch with the tree id of `prefix` on its head, in a few calls whatever the count
   * (consistency check).
   */
  trees(prefix: string): Promise<BranchTree[]>;
  /**
   * Branch `name` = the default branch plus exactly `files` under deploy/; idempotent. `known` is
   * what deploy/ held after the last write, when the caller remembers it: a store may then send
   * only what changed, once it has seen that deploy/ is still exactly that. `signal` stops it
   * (its child processes killed): a worker whose lease ran out writes nothing after its taker.
   */
  ensure(
    name: EnvName,
    files: BranchFile[],
    message: string,
    known?: BranchFile[] | null,
    signal?: AbortSignal,
  ): Promise<Ensured>;
  /** The files under `prefix` on a branch, or null when the branch does not exist. */
  readFiles(name: string, prefix: string): Promise<BranchFile[] | null>;
  remove(name: EnvName): Promise<'deleted' | 'absent'>;
  /** Copies the branch to `archiveName` (under archive/), then deletes it. */
  archive(name: string, archiveName: string): Promise<void>;
  /** How Argo CD clones these branches; a Failure when it cannot reach them. */
  access(): Promise<RepositoryAccess>;
}

export function refuseReserved(name: string): void {
  if (isReservedBranch(name)) {
    throw new Failure(
      'invalid_input',
      `branch "${name}" is reserved (main, master, develop, release, devops, archive/*) and is ` +
        `never touched by kindler-bot`,
    );
  }
}

export function refuseBadArchive(archiveName: string): void {
  if (!archiveName.startsWith('archive/') || archiveName.length <= 'archive/'.length) {
    throw new Failure('invalid_input', `archive branch "${archiveName}" must be under archive/`);
  }
}
