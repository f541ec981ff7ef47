// `kindler check --json` over 1,000 consistent environments as a whole process (bin/kindler.js over
// dist/), with every system this machine can run configured: PostgreSQL rows, one branch per
// environment holding its rendered deploy/ in a Git repository (the git CLI), 1,000 k3d clusters
// (the CLI fake, a process of its own), and HAProxy's config with 1,000 routes. Beside it, in the
// same run: `git ls-remote` of the same repository and `psql` over the same rows — and upstream
// Kindler's own `scripts/check_consistency.sh` when its snapshot is at KINDLER_UPSTREAM (a
// checkout of HofmannHe/Kindler at 4d3fbe4, the PostgreSQL version), run on the same state
// through a `kubectl` shim that answers `exec … psql` with the real psql and
// `config get-contexts` from a kubeconfig with the 1,000 contexts.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { envName } from '../src/domain/index.js';
import { loadTemplates } from '../src/git/templates.js';
import { renderGateway } from '../src/registrars/haproxy-config.js';
import { renderBranchFiles, templateVars } from '../src/git/manifests.js';
import { PgDb } from '../src/store/pg-db.js';
import { SqlStore } from '../src/store/sql-store.js';
import { createTestDatabase } from '../test/support/db.js';
import { setupFakes } from '../test/support/fakes.js';
import type { Figure } from './figure.js';
import { buildDist, kindler, median, timeProcess, benchRows, withThisNode } from './process.js';

const RUNS = 5;

/**
 * A state of `count` consistent environments (spread over `sites` sites) as the bench builds it;
 * `check` runs one `kindler check --json` on it and times it.
 */
async function checkState(count: number, sites: number) {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-check-'));
  const fakes = setupFakes();
  const close = async () => {
    fakes.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db.drop();
  };
  try {
    const names = Array.from({ length: count }, (_, i) => `env-${String(i).padStart(5, '0')}`);
    const store = new SqlStore(new PgDb(db.url));
    await store.migrate();
    await store.importRecords(benchRows(names));
    const spread = sites > 1 ? await spreadOverSites(db.url, tmp, sites) : null;
    const rows = await store.listEnvironments();
    await store.close();

    // One branch per environment, its deploy/ rendered as the branch step renders it: written
    // with git fast-import (a commit per branch on top of main).
    const repo = path.join(tmp, 'gitops.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
    const templates = await loadTemplates();
    const settings = { baseDomain: 'example.test', ingressClass: 'traefik' };
    const lines: string[] = [];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}`;
    lines.push(
      'commit refs/heads/main',
      'committer b <b@x> 0 +0000',
      data('main'),
      'M 644 inline README.md',
      data('# gitops\n'),
      '',
    );
    for (const name of names) {
      const files = renderBranchFiles(
        templates,
        templateVars({ name: envName(name), provider: 'k3d' }, settings),
      );
      lines.push(
        `commit refs/heads/${name}`,
        'committer b <b@x> 0 +0000',
        data(name),
        'from refs/heads/main',
      );
      for (const f of files) lines.push(`M 644 inline ${f.path}`, data(f.content));
      lines.push('');
    }
    execFileSync('git', ['--git-dir', repo, 'fast-import', '--quiet'], { input: lines.join('\n') });

    // 1,000 k3d clusters, as the CLI fake keeps them, with the rows' ports (each on its site's).
    if (!spread) fakes.holdK3dClusters(rows);
    else
      for (const [site, host] of Object.entries(spread.hosts))
        fakes.holdK3dClusters(
          rows.filter((r) => r.site === site),
          host,
        );
    const haproxy = path.join(tmp, 'haproxy.cfg');
    fs.writeFileSync(
      haproxy,
      renderGateway(
        fs.readFileSync(
          path.resolve(import.meta.dirname, '../test/fixtures/haproxy/haproxy.cfg'),
          'utf8',
        ),
        rows,
        { backendHost: '127.0.0.1' },
      ),
    );
    const env = {
      ...fakes.env,
      DATABASE_URL: db.url,
      KINDLER_DATA_DIR: path.join(tmp, 'data'),
      GIT_REPO_URL: repo,
      BASE_DOMAIN: 'example.test',
      HAPROXY_CONFIG: haproxy,
      ...(spread ? { KINDLER_SITES: spread.file } : {}),
    };
    const check = () => timeProcess(kindler(['check', '--json']), env);
    const report = () =>
      JSON.parse(
        execFileSync(kindler([])[0] as string, ['check', '--json'], {
          env: withThisNode({ ...process.env, ...env }),
          encoding: 'utf8',
          maxBuffer: 256 * 2 ** 20,
        }),
      ) as { consistent: boolean; summary: string };
    return {
      names,
      repo,
      url: db.url,
      tmp,
      check,
      report,
      close: async () => {
        spread?.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The figures at `count` environments; with `growthAt`, the warm check measured on a state of that
 * many too, its runs interleaved with these (what the machine does meanwhile falls on both alike),
 * and the growth row.
 */
export async function checkProcessFigures(
  count = 1000,
  growthAt?: number,
  /** Sites the environments are spread over (KINDLER_SITES, each a unix socket), in turn. */
  sites = 1,
): Promise<Figure[]> {
  buildDist();
  const state = await checkState(count, sites);
  const larger = growthAt
    ? await checkState(growthAt, 1).catch(async (error: unknown) => {
        await state.close();
        throw error;
      })
    : null;
  try {
    // The first check reads every branch's deploy/ once; what it learned is kept.
    const first = state.check();
    larger?.check();
    const runs: ReturnType<typeof state.check>[] = [];
    const largerRuns: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if (i % 2) runs.push(state.check());
      if (larger) largerRuns.push(larger.check().ms);
      if (i % 2 === 0) runs.push(state.check());
    }
    for (const s of [state, larger]) {
      const report = s?.report();
      if (report && !report.consistent)
        throw new Error(`the bench's state is not consistent: ${report.summary}`);
    }
    const check = { ms: median(runs.map((r) => r.ms)), mb: median(runs.map((r) => r.peakMb)) };
    if (sites > 1)
      return [
        {
          name: `\`kindler check --json\`, ${count} environments over ${sites} sites, wall (median of ${RUNS})`,
          value: check.ms,
          unit: 'ms',
          goal: '—',
        },
      ];
    const { repo, url, names, tmp } = state;
    const lsRemote = median(
      Array.from({ length: RUNS }, () => timeProcess(['git', 'ls-remote', '--heads', repo]).ms),
    );
    const psql = median(
      Array.from(
        { length: RUNS },
        () => timeProcess(['psql', url, '-Atc', 'select name from clusters order by name']).ms,
      ),
    );
    // Upstream is measured beside the top-level figures only.
    const upstream = growthAt !== undefined ? upstreamCheck(tmp, url, repo, names) : null;
    const figures: Figure[] = [
      {
        name: `yardstick: \`git ls-remote\` of the ${count + 1} branches, wall`,
        value: lsRemote,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `yardstick: \`psql\` reading the ${count} names, wall`,
        value: psql,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `\`kindler check --json\`, ${count} environments, git + k3d + HAProxy + PostgreSQL, first run (every deploy/ read)`,
        value: first.ms,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `\`kindler check --json\`, ${count} environments, wall (median of ${RUNS}; ${(check.ms / lsRemote).toFixed(1)}× git ls-remote)`,
        value: check.ms,
        unit: 'ms',
        goal: '< 1000 ms',
      },
      { name: '`kindler check --json`, peak RSS', value: check.mb, unit: 'MB', goal: '—' },
    ];
    if (growthAt) {
      const warm = median(largerRuns);
      figures.push(
        {
          name: `\`kindler check --json\`, ${growthAt} environments, wall (median of ${RUNS}, interleaved with the ${count})`,
          value: warm,
          unit: 'ms',
          goal: '—',
        },
        {
          name: `growth: \`kindler check\` at ${growthAt} ÷ at ${count} environments, warm`,
          value: Math.round((warm / check.ms) * 100) / 100,
          unit: '×',
          goal: `≤ 2 × (${growthAt / count}× the environments)`,
        },
      );
    }
    if (upstream !== null)
      figures.push(
        {
          name: "upstream's `check_consistency.sh` on the same state, wall",
          value: upstream,
          unit: 'ms',
          goal: '—',
        },
        {
          name: 'upstream ÷ `kindler check`',
          value: Math.round((upstream / check.ms) * 10) / 10,
          unit: '×',
          goal: '≥ 10×',
        },
      );
    return figures;
  } finally {
    await larger?.close();
    await state.close();
  }
}

/**
 * Upstream's check on the same state, when its snapshot is at hand (KINDLER_UPSTREAM): its
 * scripts read the rows with `kubectl exec … psql` and the clusters from `kubectl config
 * get-contexts`; a shim answers both from the same database and 1,000 contexts.
 */
function upstreamCheck(tmp: string, url: string, repo: string, names: string[]): number | null {
  const snapshot = process.env.KINDLER_UPSTREAM;
  if (!snapshot || !fs.existsSync(path.join(snapshot, 'scripts/check_consistency.sh'))) return null;
  // A copy of its scripts and config, its Git repository being ours.
  const root = path.join(tmp, 'upstream');
  fs.cpSync(path.join(snapshot, 'scripts'), path.join(root, 'scripts'), { recursive: true });
  fs.cpSync(path.join(snapshot, 'config'), path.join(root, 'config'), { recursive: true });
  fs.writeFileSync(path.join(root, 'config/git.env'), `GIT_REPO_URL=${repo}\n`);
  const bin = path.join(tmp, 'upstream-bin');
  fs.mkdirSync(bin);
  const contexts = path.join(tmp, 'contexts.txt');
  fs.writeFileSync(contexts, `k3d-devops\n${names.map((n) => `k3d-${n}`).join('\n')}\n`);
  fs.writeFileSync(
    path.join(bin, 'kubectl'),
    `#!/usr/bin/env bash
# kubectl as upstream's scripts call it: exec … -- psql …, and config get-contexts -o name.
for a in "$@"; do [ "$a" = get-contexts ] && exec cat ${JSON.stringify(contexts)}; done
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do shift; done; shift
[ "$1" = psql ] && shift
args=(); while [ "$#" -gt 0 ]; do case "$1" in -U|-d) shift 2;; *) args+=("$1"); shift;; esac; done
exec psql ${JSON.stringify(url)} "\${args[@]}"
`,
    { mode: 0o755 },
  );
  const run = () => {
    const started = performance.now();
    const r = spawnSync('bash', [path.join(root, 'scripts/check_consistency.sh')], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    const ms = performance.now() - started;
    // It must have read all three: the rows, the branches, the clusters.
    if (!/DB: 1000 clusters/.test(r.stdout) || !/Git: 1000 branches/.test(r.stdout))
      throw new Error(
        `upstream's check did not read the state: ${r.stdout.slice(0, 500)}${r.stderr}`,
      );
    return ms;
  };
  return median(Array.from({ length: 3 }, run));
}

/**
 * The rows spread over `n` sites in turn (site-0, site-1, …), each a Docker endpoint on a unix
 * socket of this process (the CLIs connect to it as to a daemon), declared in a KINDLER_SITES file.
 */
async function spreadOverSites(url: string, tmp: string, n: number) {
  const db = new PgDb(url);
  await db.query(
    `update clusters c set site = 'site-' || ((s.rn - 1) % $1)
       from (select name, row_number() over (order by name) rn from clusters
              where name <> 'devops') s
      where c.name = s.name`,
    [n],
  );
  await db.close();
  const hosts: Record<string, string> = {};
  const servers: net.Server[] = [];
  for (let i = 0; i < n; i++) {
    const socket = path.join(tmp, `site-${i}.sock`);
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(socket, r));
    servers.push(server);
    hosts[`site-${i}`] = `unix://${socket}`;
  }
  const file = path.join(tmp, 'sites.yaml');
  fs.writeFileSync(
    file,
    `sites:\n${Object.entries(hosts)
      .map(([name, host]) => `  - { name: ${name}, docker_host: "${host}" }\n`)
      .join('')}`,
  );
  return { hosts, file, close: () => servers.forEach((s) => s.close()) };
}
