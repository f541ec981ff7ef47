// The `branch` step: the environment's branch holds the rendered deploy/ chart — the templates',
// or a pull request head's (see Environment.source). Drift is what the branch holds versus what
// the templates render now, or, for a pull request, what its last deploy wrote.
import { isReservedBranch, shell, type EnvName, type Environment } from '../domain/index.js';
import { listingView, type Observation, type Read, type SystemView } from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import type { BranchFile, BranchStore, BranchTree, Ensured } from './branch-store.js';
import { treeSha } from './tree-hash.js';

export const DEPLOY_PREFIX = 'deploy/';

export function branchDrift(actual: BranchFile[], wanted: BranchFile[]): string[] {
  const have = new Map(actual.map((f) => [f.path, f.content]));
  const want = new Map(wanted.map((f) => [f.path, f.content]));
  const diffs: string[] = [];
  for (const [file, content] of want) {
    if (!have.has(file)) diffs.push(`${file} missing`);
    else if (have.get(file) !== content) diffs.push(`${file} differs`);
  }
  for (const file of have.keys()) if (!want.has(file)) diffs.push(`${file} not in the templates`);
  return diffs.sort();
}

/** The branches, judged by the id of their deploy/ tree against what the templates render now. */
export function branchView(
  observation: Observation<Pick<BranchTree, 'name' | 'tree'>>,
  defaultBranch: string,
): SystemView {
  return listingView('git', observation, {
    assess(want, find) {
      const branch = find(want.env.name);
      if (!branch)
        return [{ kind: 'missing', detail: `no branch "${want.env.name}"`, fix: want.recreate }];
      if (want.tree === null)
        return [
          {
            kind: 'mismatch',
            detail: `the templates could not be rendered: ${want.renderError ?? 'unknown error'}`,
            fix: shell('check KINDLER_TEMPLATES_DIR'),
          },
        ];
      if (branch.tree === want.tree) return [];
      const source = want.env.source;
      const detail = !branch.tree
        ? 'the branch has no deploy/ folder'
        : source && want.env.deployed
          ? `deploy/ differs from what ${source.repo}@${want.env.deployed.sha.slice(0, 7)} rendered`
          : 'deploy/ differs from what the templates render now';
      return [{ kind: 'mismatch', detail, fix: want.repair }];
    },
    what: (b) =>
      isReservedBranch(b.name) || b.name === defaultBranch ? null : `branch "${b.name}"`,
  });
}

/**
 * What an environment's branch should hold: rendered from the templates, or from head `at`;
 * with `validate`, refused (file and line) unless it is fit to deploy — what is written is
 * checked, what is only compared (a consistency check) need not be.
 */
export type Render = (
  env: Environment,
  at?: string | null,
  options?: { validate?: boolean },
) => Promise<BranchFile[]>;

export class BranchStep implements StepHandler {
  readonly step = 'branch' as const;
  constructor(
    private readonly branches: BranchStore,
    private readonly render: Render,
    private readonly defaultBranch: string,
    /** Records what the branch holds now (a pull request's head, and its deploy/ tree id). */
    private readonly deployed: (name: EnvName, deployed: Environment['deployed']) => Promise<void>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  skipReason(): string | null {
    return null;
  }

  async observe(read: Read): Promise<SystemView> {
    return branchView(await read(() => this.branches.trees(DEPLOY_PREFIX)), this.defaultBranch);
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const verb = (result: Ensured) =>
      ({
        created: 'created branch',
        updated: 'updated branch',
        unchanged: 'branch already up to date:',
      })[result];
    if (!env.source) {
      const result = await this.branches.ensure(
        env.name,
        await this.render(env, null, { validate: true }),
        `kindler: manifests for environment ${env.name} (${env.provider})`,
        null,
        ctx.signal,
      );
      return `${verb(result)} "${env.name}" in ${this.branches.description}`;
    }
    // A pull request's head: the one this operation deploys, or (a sync) the one deployed last.
    const sha = ctx.headSha ?? env.deployed?.sha ?? env.source.sha;
    const files = await this.render(env, sha, { validate: true });
    // What the last deploy wrote, so only what changed is sent (rendered again from what is kept).
    const known =
      env.deployed && env.deployed.sha !== sha
        ? await this.render(env, env.deployed.sha).catch(() => null)
        : null;
    const result = await this.branches.ensure(
      env.name,
      files,
      `kindler: deploy ${env.name} from ${env.source.repo}@${sha}`,
      known,
      ctx.signal,
    );
    const tree = treeSha(files, DEPLOY_PREFIX);
    const same = env.deployed?.sha === sha && env.deployed.tree === tree;
    if (!same) await this.deployed(env.name, { sha, tree, at: this.now() });
    const changed = known ? branchDrift(known, files).length : files.length;
    const what =
      result === 'unchanged' ? '' : ` (${changed} file${changed === 1 ? '' : 's'} changed)`;
    return `${verb(result)} "${env.name}" with ${env.source.repo}@${sha.slice(0, 7)}${what}`;
  }

  async prune(ctx: PruneContext): Promise<string> {
    if (!(await this.branches.get(ctx.name))) return `branch "${ctx.name}" already absent`;
    await this.branches.archive(ctx.name, ctx.archiveAs);
    return `archived as ${ctx.archiveAs}`;
  }

  async remove(ctx: StepContext): Promise<string> {
    const result = await this.branches.remove(ctx.env.name);
    return result === 'deleted'
      ? `deleted branch "${ctx.env.name}"`
      : `branch "${ctx.env.name}" already absent`;
  }
}
