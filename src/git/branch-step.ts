// The `branch` step: the environment's branch holds the rendered deploy/ chart. Drift is what the
// branch holds versus what the templates render now.
import type { Environment } from '../domain/index.js';
import type { Presence, PruneContext, StepContext, StepHandler } from '../lifecycle/step.js';
import type { BranchFile, BranchStore } from './branch-store.js';

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

export class BranchStep implements StepHandler {
  readonly step = 'branch' as const;
  constructor(
    private readonly branches: BranchStore,
    private readonly render: (env: Environment) => Promise<BranchFile[]>,
  ) {}

  skipReason(): string | null {
    return null;
  }

  async check(env: Environment): Promise<Presence> {
    const actual = await this.branches.readFiles(env.name, DEPLOY_PREFIX);
    if (actual === null)
      return { state: 'absent', detail: `no branch "${env.name}" in ${this.branches.description}` };
    const diffs = branchDrift(actual, await this.render(env));
    return diffs.length
      ? { state: 'drift', detail: diffs.join(', ') }
      : { state: 'present', detail: `branch "${env.name}" matches the templates` };
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
