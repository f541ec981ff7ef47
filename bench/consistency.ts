// The consistency check over 1,000 environments: the bot's own time (listing every system,
// rendering 1,000 branches' templates, hashing their trees, comparing) and the GitHub calls it
// makes to list branches. Branches live in the config repo through the GitHub API (nock, paged
// like GitHub: 100 refs per GraphQL page); k3d is the CLI fake holding 1,000 clusters; Portainer
// answers through nock, the devops cluster's API is the apiserver stand-in (1,000 cluster Secrets);
// HAProxy is a real config file with 1,000 routes.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import nock from 'nock';
import { loadConfig } from '../src/config/config.js';
import { checkConsistency } from '../src/consistency/check.js';
import { keptHealth, observeHealth } from '../src/consistency/health.js';
import { monitorPass } from '../src/github/monitor.js';
import type { Environment } from '../src/domain/index.js';
import { GitHubBranchStore } from '../src/git/github-branch-store.js';
import { treeSha } from '../src/git/tree-hash.js';
import { K3dProvider } from '../src/providers/k3d-provider.js';
import { renderGateway } from '../src/registrars/haproxy-config.js';
import { cliSettings, openRuntime } from '../src/runtime.js';
import { withPostgresStore } from '../test/support/db.js';
import { setupFakes } from '../test/support/fakes.js';
import { refsServer } from '../test/support/github-refs.js';
import { startKubeApi } from '../test/support/kube-api.js';
import { startPortainerServer } from '../test/support/portainer-server.js';
import type { Figure } from './figure.js';

const PORTAINER = 'https://portainer.bench.test';

export async function consistencyFigures(count = 1000, runs = 5): Promise<Figure[]> {
  const fakes = setupFakes();
  const restore = fakes.apply();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-bench-consistency-'));
  const { store, cleanup } = await withPostgresStore();
  const kube = await startKubeApi();
  let closeGateway = async () => undefined as void;
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
    kube.addCluster('k3d-devops', 'devops-token', ['argocd']);
    for (const name of names)
      kube.put('k3d-devops', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: `cluster-${name}`,
          namespace: 'argocd',
          labels: {
            'argocd.argoproj.io/secret-type': 'cluster',
            env: name,
            provider: 'k3d',
            type: 'business',
          },
        },
      });
    // Argo CD's Application per environment, as its controllers leave them: Synced and Healthy.
    for (const name of names)
      kube.put('k3d-devops', {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: `whoami-${name}`, namespace: 'argocd' },
        spec: {
          project: `env-${name}`,
          source: {
            repoURL: 'https://git.bench.test/cfg.git',
            targetRevision: name,
            path: 'deploy',
          },
          destination: { server: `https://k3d-${name}-serverlb:6443`, namespace: 'whoami' },
        },
        status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } },
      });
    // The gateway every environment's app answers through (the health probe's target), in a
    // process of its own: its CPU is not the bot's.
    const gateway = spawn(
      process.execPath,
      [
        '-e',
        "require('http').createServer((q, s) => s.end('Hostname: whoami'))" +
          ".listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const gatewayPort = await new Promise<number>((resolve) =>
      gateway.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    closeGateway = async () => void gateway.kill();
    fs.writeFileSync(path.join(tmp, 'kubeconfig'), kube.kubeconfig('k3d-devops'));
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
        HAPROXY_HOST: '127.0.0.1',
        HAPROXY_HTTP_PORT: String(gatewayPort),
        KINDLER_READY_TIMEOUT: '5',
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
    fakes.holdK3dClusters(rows);
    // What GitHub holds: every branch with the tree its templates render to, plus main.
    const trees = await Promise.all(
      rows.map(async (r: Environment) => ({
        name: r.name as string,
        target: { oid: 'a'.repeat(40), file: { oid: treeSha(await rt.render(r), 'deploy/') } },
      })),
    );
    const refs = [{ name: 'main', target: { oid: 'b'.repeat(40), file: null } }, ...trees];

    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
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
    // The reconcile loop's pass: the same check, automatic repair (nothing to repair), and every
    // environment's health (one list of Applications, one of Edge endpoints, 1,000 app probes).
    const passes: { ms: number; cpuMs: number; github: number; kube: number }[] = [];
    for (let run = 0; run < runs; run++) {
      const github = refsServer(refs);
      nock('https://api.github.com')
        .post('/graphql')
        .times(Math.ceil(refs.length / 200))
        .reply(200, github.reply);
      const now = Math.round(Date.now() / 1000);
      nock(PORTAINER)
        .get('/api/endpoints')
        .query(true)
        .times(2)
        .reply(
          200,
          rows.map((r, i) => ({
            Id: i + 2,
            Name: r.name,
            Type: 7,
            LastCheckInDate: now,
            EdgeCheckinInterval: 5,
          })),
        );
      const kubeBefore = kube.requests.length;
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const result = await monitorPass({
        rt: { ...rt, config: { ...rt.config, KINDLER_AUTO_REPAIR: 'non-destructive' } },
      });
      passes.push({
        ms: performance.now() - t0,
        cpuMs: (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000,
        github: github.calls,
        kube: kube.requests.length - kubeBefore,
      });
      const health = await keptHealth(store);
      const healthy = Object.values(health).filter((h) => h.health === 'healthy').length;
      if (!result.report.consistent || result.operations.length || healthy !== count)
        throw new Error(
          `bench pass is not quiet: ${result.report.summary}, ${healthy} of ${count} healthy, ` +
            `${JSON.stringify(Object.values(health).find((h) => h.health !== 'healthy'))}`,
        );
    }
    // The health observation alone with nock out of the way (it intercepts every request in this
    // process, the 1,000 probes too): Portainer answering from the stand-in, Argo CD from the
    // apiserver stand-in, the probes going to the gateway's own process.
    const portainer = await startPortainerServer();
    portainer.apiKeys.add('k');
    const checkIn = Math.round(Date.now() / 1000);
    portainer.endpoints.push(
      ...rows.map((r, i) => ({
        Id: i + 2,
        Name: r.name,
        Type: 7,
        EdgeKey: 'k',
        URL: 'edge',
        LastCheckInDate: checkIn,
        EdgeCheckinInterval: 5,
      })),
    );
    // GitHub's GraphQL over loopback (the refs stand-in behind a plain HTTP server).
    const refsHttp = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', async () => {
        const answer = await refsServer(refs).reply(
          new Request('http://github.local/graphql', { method: 'POST', body: raw }),
        );
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => refsHttp.listen(0, '127.0.0.1', resolve));
    const direct = await openRuntime(
      { ...config, PORTAINER_URL: portainer.url },
      {
        store,
        branches: new GitHubBranchStore(
          new Octokit({
            baseUrl: `http://127.0.0.1:${(refsHttp.address() as AddressInfo).port}`,
            request: { retries: 0 },
          }),
          { owner: 'acme', repo: 'cfg', defaultBranch: 'main' },
        ),
      },
    );
    nock.restore();
    const healthCpu: number[] = [];
    const passCpu: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        let cpu = process.cpuUsage();
        const { health } = await observeHealth(direct);
        let used = process.cpuUsage(cpu);
        healthCpu.push((used.user + used.system) / 1000);
        const healthy = Object.values(health).filter((h) => h.health === 'healthy').length;
        if (healthy !== count) throw new Error(`health bench: ${healthy} of ${count} healthy`);
        cpu = process.cpuUsage();
        const result = await monitorPass({
          rt: { ...direct, config: { ...direct.config, KINDLER_AUTO_REPAIR: 'non-destructive' } },
        });
        used = process.cpuUsage(cpu);
        passCpu.push((used.user + used.system) / 1000);
        if (!result.report.consistent) throw new Error(`pass bench: ${result.report.summary}`);
      }
    } finally {
      nock.activate();
      await portainer.close();
      await new Promise((resolve) => refsHttp.close(resolve));
    }
    healthCpu.sort((a, b) => a - b);
    passCpu.sort((a, b) => a - b);
    passes.sort((a, b) => a.ms - b.ms);
    const pass = passes[Math.floor(passes.length / 2)]!;
    // The k3d CLI fake's own run time (a node process), which is not the bot's.
    const t1 = performance.now();
    await new K3dProvider(cliSettings(config)).list();
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
      {
        name: `reconcile pass over ${count} environments (check, repair, health with ${count} app probes), median of ${runs}`,
        value: pass.ms,
        unit: 'ms',
        goal: '—',
      },
      {
        name: '…its CPU time in this process (the apiserver stand-in and nock included)',
        value: pass.cpuMs,
        unit: 'ms',
        goal: '—',
      },
      {
        name: `reconcile pass over ${count} environments, CPU, no nock in the way (GitHub, Portainer and apiserver stand-ins over loopback, in this process)`,
        value: passCpu[Math.floor(passCpu.length / 2)]!,
        unit: 'ms',
        goal: '< 1000 ms',
      },
      {
        name: `health of ${count} environments alone (2 listings, ${count} probes), CPU, no nock in the way`,
        value: healthCpu[Math.floor(healthCpu.length / 2)]!,
        unit: 'ms',
        goal: '—',
      },
      { name: '…its GitHub calls', value: pass.github, unit: 'calls', goal: '≤ 10' },
      { name: '…its Kubernetes API calls', value: pass.kube, unit: 'calls', goal: '≤ 5' },
      // ceil(refs / 200): 100 refs from each end per request (GraphQL's page maximum is 100).
      {
        name: `GitHub calls to list ${refs.length} branches (${count} environments + main) with their deploy/ trees`,
        value: graphqlCalls / runs,
        unit: 'calls',
        goal: '≤ 10',
      },
    ];
  } finally {
    await closeGateway();
    restore();
    fakes.cleanup();
    await kube.close();
    await cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
