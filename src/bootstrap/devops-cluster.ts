// The devops cluster: a k3d cluster (KINDLER_DEVOPS_CLUSTER, API on 127.0.0.1:
// KINDLER_DEVOPS_API_PORT, image K3D_IMAGE), its kubeconfig written to <data dir>/devops.kubeconfig
// (mode 600) where the bot reads it: DEVOPS_CONTEXT=k3d-<name>, DEVOPS_KUBECONFIG=<that file>.
// The user's own kubeconfig is left alone.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { run, runAllowingFailure } from '../system/exec.js';
import { cliOptions } from './container.js';
import { parseJsonAnswer } from '../system/parse.js';
import type { BootstrapContext, Piece, Probe } from './piece.js';

const Listed = z.array(z.object({ name: z.string() }));
const Networks = z.array(
  z.object({
    IPAM: z
      .object({ Config: z.array(z.object({ Gateway: z.string().optional() })).nullish() })
      .optional(),
  }),
);

export class DevopsCluster implements Piece {
  readonly name = 'devops-cluster' as const;
  readonly title = 'devops cluster';

  private names(ctx: BootstrapContext) {
    const name = ctx.config.KINDLER_DEVOPS_CLUSTER;
    return {
      name,
      context: `k3d-${name}`,
      kubeconfig: path.join(ctx.config.dataDir, 'devops.kubeconfig'),
    };
  }

  private async exists(ctx: BootstrapContext): Promise<boolean> {
    const { stdout } = await run('k3d', ['cluster', 'list', '-o', 'json'], cliOptions(ctx));
    const listed = parseJsonAnswer(Listed, stdout, 'k3d cluster list');
    return listed.some((c) => c.name === this.names(ctx).name);
  }

  async probe(ctx: BootstrapContext): Promise<Probe> {
    const { name, kubeconfig } = this.names(ctx);
    if (!(await this.exists(ctx))) return { state: 'missing', detail: `no k3d cluster ${name}` };
    const written = await fs.stat(kubeconfig).then(
      () => true,
      () => false,
    );
    return written
      ? { state: 'ok', detail: `k3d cluster ${name}, context k3d-${name} in ${kubeconfig}` }
      : { state: 'down', detail: `k3d cluster ${name} has no kubeconfig in ${kubeconfig}` };
  }

  async ensure(ctx: BootstrapContext, _found: Probe): Promise<string> {
    const { name, context, kubeconfig } = this.names(ctx);
    let made = false;
    if (!(await this.exists(ctx))) {
      await run(
        'k3d',
        [
          'cluster',
          'create',
          name,
          '--api-port',
          `127.0.0.1:${ctx.config.KINDLER_DEVOPS_API_PORT}`,
          '--image',
          ctx.config.K3D_IMAGE,
          '--kubeconfig-update-default=false',
          '--wait',
        ],
        cliOptions(ctx),
      );
      made = true;
    }
    const { stdout } = await run('k3d', ['kubeconfig', 'get', name], {
      ...cliOptions(ctx),
      keepTrailingNewline: true,
    });
    await fs.mkdir(path.dirname(kubeconfig), { recursive: true });
    await fs.writeFile(kubeconfig, stdout, { mode: 0o600 });
    await fs.chmod(kubeconfig, 0o600);
    ctx.settings.DEVOPS_CONTEXT = context;
    ctx.settings.DEVOPS_KUBECONFIG = kubeconfig;
    // host.k3d.internal is the cluster network's gateway: the bot's Git service listens there too.
    const gateway = await this.networkGateway(ctx, `k3d-${name}`);
    if (gateway) ctx.settings.KINDLER_GIT_SERVICE_LISTEN = `${gateway}:${ctx.config.PORT}`;
    else ctx.note(`no gateway address for network k3d-${name}: the Git service stays on HOST`);
    return `${made ? 'created' : 'found'} k3d cluster ${name}; context ${context} in ${kubeconfig}`;
  }

  private async networkGateway(ctx: BootstrapContext, network: string): Promise<string | null> {
    const inspected = await runAllowingFailure(
      'docker',
      ['network', 'inspect', network],
      cliOptions(ctx),
    );
    if (inspected.exitCode !== 0) return null;
    const [first] = parseJsonAnswer(
      Networks,
      inspected.stdout,
      `docker network inspect ${network}`,
    );
    return first?.IPAM?.Config?.find((c) => c.Gateway)?.Gateway ?? null;
  }

  async remove(ctx: BootstrapContext): Promise<string> {
    const { name, kubeconfig } = this.names(ctx);
    const there = await this.exists(ctx);
    if (there) await run('k3d', ['cluster', 'delete', name], cliOptions(ctx));
    await fs.rm(kubeconfig, { force: true });
    return there ? `deleted k3d cluster ${name}` : `k3d cluster ${name} already absent`;
  }
}
