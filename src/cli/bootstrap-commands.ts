// kindler bootstrap [--check] [--show-password] [--json]: the devops side, piece by piece (see
// src/bootstrap/); kindler teardown --confirm: what bootstrap made, removed, nothing else.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEVOPS_ENV_FILE } from '../config/devops-env.js';
import { argoAdminPassword, devopsClient } from '../bootstrap/argocd-install.js';
import {
  bootstrapContext,
  devopsPieces as pieces,
  type BootstrapDeps,
} from '../bootstrap/devops-side.js';
import { checkBootstrap, runBootstrap } from '../bootstrap/run-bootstrap.js';
import { parse } from './args.js';
import { EXIT } from './exit-codes.js';
import { USAGE } from './help.js';
import { err, out, type CliIo } from './io.js';

const context = (rt: BootstrapDeps, io: CliIo, json: boolean) =>
  bootstrapContext(rt, io.env, (line) => (json ? undefined : out(io, `    ${line}`)), io.signal);

export const bootstrapArgs = (args: string[]) =>
  parse(
    args,
    {
      check: { type: 'boolean' },
      'show-password': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE.bootstrap,
  );

export async function bootstrap(rt: BootstrapDeps, args: string[], io: CliIo): Promise<number> {
  const { values } = bootstrapArgs(args);
  const json = values.json === true;
  const ctx = context(rt, io, json);
  const file = path.join(rt.config.dataDir, DEVOPS_ENV_FILE);
  if (values.check) {
    const probes = await checkBootstrap(pieces(rt), ctx);
    const down = probes.filter((p) => p.probe.state !== 'ok');
    if (json)
      out(io, JSON.stringify({ ok: down.length === 0, pieces: probes, settings: file }, null, 2));
    else {
      for (const p of probes)
        out(io, `${p.probe.state === 'ok' ? '✓' : '✗'} ${p.title}: ${p.probe.detail}`);
      out(io, `Settings: ${file}${Object.keys(ctx.settings).length ? '' : ' (none yet)'}`);
      if (down.length)
        err(io, `Down: ${down.map((p) => p.title).join(', ')}. Run kindler bootstrap.`);
    }
    return down.length ? EXIT.failed : EXIT.ok;
  }
  if (!json) out(io, 'Bootstrapping the devops side:');
  const { ok, results } = await runBootstrap(pieces(rt), ctx, (r) => {
    if (json) return;
    const mark = r.outcome === 'failed' ? '✗' : r.outcome === 'made' ? '✓' : '=';
    out(io, `${mark} ${r.title} — ${r.detail} (${(r.ms / 1000).toFixed(1)} s)`);
  });
  let password: string | null = null;
  if (ok && values['show-password']) {
    password = await argoAdminPassword(await devopsClient(ctx), rt.config.ARGOCD_NAMESPACE);
  }
  if (json)
    out(
      io,
      JSON.stringify(
        {
          ok,
          pieces: results,
          settings: file,
          ...(password ? { argocdAdminPassword: password } : {}),
        },
        null,
        2,
      ),
    );
  else if (ok) {
    out(io, `Settings written to ${file} (read at start; variables you set win).`);
    if (password) out(io, `Argo CD admin password: ${password}`);
    out(io, 'Next: kindler create dev');
  }
  if (!ok) {
    const failed = results.at(-1)!;
    if (!json)
      err(
        io,
        `kindler bootstrap: ${failed.title}: ${failed.detail}\nNext: kindler bootstrap (what ` +
          `was made is kept; it resumes there)`,
      );
    return EXIT.failed;
  }
  return EXIT.ok;
}

export async function teardown(rt: BootstrapDeps, args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { confirm: { type: 'boolean' } }, USAGE.teardown);
  const ctx = context(rt, io, false);
  const all = pieces(rt).reverse();
  if (!values.confirm) {
    out(io, 'kindler teardown --confirm would remove what kindler bootstrap made:');
    for (const p of all) out(io, `  - ${p.title}`);
    out(io, `  - ${path.join(rt.config.dataDir, DEVOPS_ENV_FILE)}`);
    out(io, 'Environments and their clusters are not touched (kindler delete <name> removes one).');
    return EXIT.ok;
  }
  for (const piece of all) {
    // The devops cluster takes Argo CD with it: Argo CD's namespace is not removed first.
    if (piece.name === 'argocd') continue;
    out(io, `✓ ${piece.title} — ${await piece.remove(ctx)}`);
  }
  await fs.rm(path.join(rt.config.dataDir, DEVOPS_ENV_FILE), { force: true });
  out(io, `✓ ${DEVOPS_ENV_FILE} removed`);
  return EXIT.ok;
}
