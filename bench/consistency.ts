// The consistency check over 1,000 environments: the bot's own time (listing every system,
// rendering 1,000 branches' templates, hashing their trees, comparing) and the GitHub calls it
// makes to list branches. Branches live in the config repo through the GitHub API (nock, paged
// like GitHub: 100 refs per GraphQL page); k3d is the CLI fake holding 1,000 clusters; Portainer
// and the devops cluster's API answer through nock; HAProxy is a real config file with 1,000 routes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import nock from 'nock';
import { loadConfig } from '../src/config/config.js';
import { checkConsistency } from '../src/consistency/check.js';
import type { Environment } from '../src/domain/index.js';
import { GitHubBranchStore } from '../src/git/github-branch-store.js';
import { treeSha } from '../src/git/tree-hash.js';
import { renderGateway } from '../src/render/haproxy.js';
import { openRuntime } from '../src/runtime.js';
import { withPostgresStore } from '../test/support/db.js';
import { setupFakes } from '../test/support/fakes.js';
import { refsServer } from '../test/support/github-refs.js';
import type { Figure } from './figure.js';

const PORTAINER = 'https://portainer.bench.test';
const DEVOPS = 'https://devops.bench.test:6443';

export async function consistencyFigures(count = 1000, runs = 5): Promise<Figure[]> {
  const fakes = setupFakes();
  const restore = fakes.apply();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-consistency-'));
  const { store, cleanup } = await withPostgresStore();
  try {
    await store.migrate();
    const names = Array.from({ length: count }, (_, i) => `env-${String(i).padStart(4, '0')}`);
    await store.importRecords(
      names.map((name, i) => ({
        name,
        provider: 'k3d',
        subnet: null,
        nodePort: 30080,
        pfPort: 40000 + i,
        httpPort: 20000 + i,
        httpsPort: 30000 + i + 1000,
        registerPortainer: true,
        haproxyRoute: true,
      })),
    );
    fs.writeFileSync(
      path.join(tmp, 'kubeconfig'),
      `apiVersion: v1\nkind: Config\ncurrent-context: k3d-devops\nclusters: [{ name: k3d-devops, cluster: { server: "${DEVOPS}", insecure-skip-tls-verify: true } }]\ncontexts: [{ name: k3d-devops, context: { cluster: k3d-devops, user: admin } }]\nusers: [{ name: admin, user: { token: t } }]\n`,
    );
    const cfgExample = fs.readFileSync(
      path.resolve(import.meta.dirname, '../test/fixtures/haproxy/haproxy.cfg'),
      'utf8',
    );
    const config = loadConfig(
      {
        ...process.env,
        ...fakes.env,
        KINDLER_DATA_DIR: tmp,
        KINDLER_CLI_TIMEOUT_MS: '30000',
        BASE_DOMAIN: 'example.test',
        PORTAINER_URL: PORTAINER,
        PORTAINER_API_KEY: 'k',
        DEVOPS_CONTEXT: 'k3d-devops',
        KUBECONFIG: path.join(tmp, 'kubeconfig'),
        HAPROXY_CONFIG: path.join(tmp, 'haproxy.cfg'),
      },
      tmp,
    );
    const octokit = new Octokit({ request: { retries: 0 } });
    const rt = await openRuntime(config, {
      store,
      branches: new GitHubBranchStore(octokit, {
        owner: 'acme',
        repo: 'cfg',
        defaultBranch: 'main',
      }),
    });
    const rows = await store.listEnvironments();
    fs.writeFileSync(
      config.HAPROXY_CONFIG as string,
      renderGateway(cfgExample, rows, { backendHost: config.HAPROXY_BACKEND_HOST }),
    );
    fs.writeFileSync(
      path.join(fakes.stateDir, 'state.json'),
      JSON.stringify({
        k3d: Object.fromEntries(
          rows.map((r) => [
            r.name,
            {
              ports: [
                { host: r.httpPort, container: 80 },
                { host: r.httpsPort, container: 443 },
              ],
              running: true,
            },
          ]),
        ),
        kind: {},
        networks: {},
      }),
    );
    // What GitHub holds: every branch with the tree its templates render to, plus main.
    const trees = await Promise.all(
      rows.map(async (r: Environment) => ({
        name: r.name as string,
        target: { oid: 'a'.repeat(40), file: { oid: treeSha(await rt.render(r), 'deploy/') } },
      })),
    );
    const refs = [{ name: 'main', target: { oid: 'b'.repeat(40), file: null } }, ...trees];

    nock.disableNetConnect();
    let graphqlCalls = 0;
    const times: number[] = [];
    let consistent = false;
    for (let run = 0; run < runs; run++) {
      const github = refsServer(refs);
      nock('https://api.github.com')
        .post('/graphql')
        .times(Math.ceil(refs.length / 200))
        .reply(200, github.reply);
      nock(PORTAINER)
        .get('/api/endpoints')
        .query(true)
        .reply(
          200,
          rows.map((r, i) => ({ Id: i + 2, Name: r.name, Type: 7 })),
        );
      nock(DEVOPS)
        .get('/api/v1/namespaces/argocd/secrets')
        .query(true)
        .reply(200, {
          items: rows.map((r) => ({
            metadata: {
              name: `cluster-${r.name}`,
              labels: {
                'argocd.argoproj.io/secret-type': 'cluster',
                env: r.name,
                provider: 'k3d',
                type: 'business',
              },
            },
          })),
        });
      const t0 = performance.now();
      const report = await checkConsistency(rt);
      times.push(performance.now() - t0);
      graphqlCalls += github.calls;
      consistent = report.consistent && report.matrix.length === count;
      if (!consistent)
        throw new Error(
          `bench setup is not consistent: ${report.summary} ${JSON.stringify(report.systems)}`,
        );
    }
    // The k3d CLI fake's own run time (a node process), which is not the bot's.
    const t1 = performance.now();
    await rt.providers.k3d.list();
    const k3dMs = performance.now() - t1;
    nock.cleanAll();
    nock.enableNetConnect();
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] as number;
    return [
      {
        name: `consistency check over ${count} environments, median of ${runs} (wall, all systems)`,
        value: median,
        unit: 'ms',
        goal: '—',
      },
      {
        name: '…of which the k3d CLI fake (a separate process listing 1,000 clusters)',
        value: k3dMs,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `consistency check over ${count} environments: the bot's own time`,
        value: median - k3dMs,
        unit: 'ms',
        goal: '< 2000 ms',
      },
      // ceil(refs / 200): 100 refs from each end per request (GraphQL's page maximum is 100).
      {
        name: `GitHub calls to list ${refs.length} branches (${count} environments + main) with their deploy/ trees`,
        value: graphqlCalls / runs,
        unit: 'calls',
        goal: '≤ 10',
      },
    ];
  } finally {
    restore();
    fakes.cleanup();
    await cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
