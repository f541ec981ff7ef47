// The `branch` step: the environment's branch holds the rendered deploy/ chart. Drift is what the
// branch holds versus what the templates render now.
import { isReservedBranch, shell, type Environment } from '../domain/index.js';
import { listingView, type Observation, type Read, type SystemView } from '../lifecycle/step.js';
import type { PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import type { BranchFile, BranchStore, BranchTree } from './branch-store.js';

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
      const detail = branch.tree
        ? 'deploy/ differs from what the templates render now'
        : 'the branch has no deploy/ folder';
      return [{ kind: 'mismatch', detail, fix: want.repair }];
    },
    what: (b) =>
      isReservedBranch(b.name) || b.name === defaultBranch ? null : `branch "${b.name}"`,
  });
}

export class BranchStep implements StepHandler {
  readonly step = 'branch' as const;
  constructor(
    private readonly branches: BranchStore,
    private readonly render: (env: Environment) => Promise<BranchFile[]>,
    private readonly defaultBranch: string,
  ) {}

  skipReason(): string | null {
    return null;
  }

  async observe(read: Read): Promise<SystemView> {
    return branchView(await read(() => this.branches.trees(DEPLOY_PREFIX)), this.defaultBranch);
  }

  async ensure(ctx: StepContext): Promise<string> {
    const { env } = ctx;
    const result = await this.branches.ensure(
      env.name,
      await this.render(env),
      `kindler: manifests for environment ${env.name} (${env.provider})`,
    );
    const verb = {
      created: 'created branch',
      updated: 'updated branch',
      unchanged: 'branch already up to date:',
    }[result];
    return `${verb} "${env.name}" in ${this.branches.description}`;
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
