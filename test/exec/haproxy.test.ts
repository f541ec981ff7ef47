// The gateway with the real `haproxy -c -f`: validate before replacing, reload with a split argv,
// leave the live file untouched when haproxy refuses, serialise concurrent writers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HaproxyGateway } from '../../src/registrars/haproxy-gateway.js';
import { HaproxyStep } from '../../src/registrars/haproxy-step.js';
import { Gateways } from '../../src/registrars/gateways.js';
import { splitArgv } from '../../src/system/argv.js';
import { processTag } from '../../src/system/owner.js';
import { makeEnv } from '../support/env.js';
import { rejection } from '../support/rejection.js';
import { setupFakes, type Fakes } from '../support/fakes.js';
import { assess } from '../support/assess.js';

let dir: string;
let cfg: string;
let marker: string;
const SOURCE = path.resolve(import.meta.dirname, '../../src/registrars/haproxy-gateway.ts');
const base = fs.readFileSync(
  path.resolve(import.meta.dirname, '../fixtures/haproxy/haproxy.cfg'),
  'utf8',
);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-haproxy-'));
  cfg = path.join(dir, 'haproxy.cfg');
  marker = path.join(dir, 'reloaded marker');
  fs.writeFileSync(cfg, base);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const gateway = (reloadCommand?: string) =>
  new HaproxyGateway({
    configPath: cfg,
    haproxyBin: 'haproxy',
    timeoutMs: 20_000,
    backendHost: '127.0.0.1',
    reloadCommand,
  });

describe('HAProxy gateway', () => {
  it('validates, replaces the file and reloads with the command split without a shell', async () => {
    const gw = gateway(`touch "${marker}"`);
    expect(await gw.sync([makeEnv('dev')])).toBe('changed');
    expect(fs.readFileSync(cfg, 'utf8')).toContain('backend be_dev\n  server s1 127.0.0.1:18090\n');
    expect(fs.existsSync(marker)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['haproxy.cfg', 'reloaded marker']);
  });

  it('a second sync with the same rows writes and reloads nothing', async () => {
    const gw = gateway(`touch "${marker}"`);
    await gw.sync([makeEnv('dev')]);
    fs.rmSync(marker);
    const before = fs.statSync(cfg).mtimeMs;
    expect(await gw.sync([makeEnv('dev')])).toBe('unchanged');
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.statSync(cfg).mtimeMs).toBe(before);
  });

  it('leaves the live file byte-identical when haproxy rejects the result, quoting haproxy', async () => {
    const broken = base.replace('default_backend be_default_404', 'default_backend be_missing');
    fs.writeFileSync(cfg, broken);
    const error = await rejection(gateway(`touch "${marker}"`).sync([makeEnv('dev')]));
    expect(error.message).toMatch(
      new RegExp(
        `^haproxy rejected the new config \\(checked with: haproxy -c -f \\{file\\}\\); ${cfg.replace(/[.]/g, '\\.')} was left unchanged:\n`,
      ),
    );
    expect(error.message).toContain("unable to find required default_backend: 'be_missing'");
    expect(fs.readFileSync(cfg, 'utf8')).toBe(broken);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['haproxy.cfg']);
  });

  it('says the config was written but not reloaded when the reload fails', async () => {
    const error = await rejection(gateway('false').sync([makeEnv('dev')]));
    expect(error.message).toBe(
      `${cfg} was written but HAProxy was not reloaded: false exited 1. To resolve, run: false`,
    );
    expect(fs.readFileSync(cfg, 'utf8')).toContain('be_dev');
  });

  it('serialises concurrent syncs: the last rows win, the file is always valid', async () => {
    const a = gateway();
    const b = gateway();
    await Promise.all([
      a.sync([makeEnv('one')]),
      b.sync([makeEnv('one'), makeEnv('two', { httpPort: 18091 })]),
      a.sync([makeEnv('three', { httpPort: 18092 })]),
    ]);
    const names = (await a.routes()).map((r) => r.name).join(',');
    expect(['one', 'one,two', 'three']).toContain(names);
    expect(execFileSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' })).toContain(
      'Configuration file is valid',
    );
    expect(fs.readdirSync(dir)).toEqual(['haproxy.cfg']);
  });

  it("a lock whose pid now names another process (a reused pid) is taken at once, a live writer's is not", async () => {
    const lock = `${cfg}.kindler.lock`;
    // A process running now under the pid a lock names, which started at another time: not the
    // lock's writer.
    const { spawn } = await import('node:child_process');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const [pid, start] = processTag(other.pid).split('@').map(Number);
      fs.writeFileSync(lock, `${pid}@${start! - 100}\n`);
      const started = Date.now();
      expect(await gateway().sync([makeEnv('dev')])).toBe('changed');
      expect(Date.now() - started).toBeLessThan(5_000);
      // Its writer, running (this one's parent): the sync waits.
      fs.writeFileSync(lock, `${processTag(process.ppid)}\n`);
      const held = gateway().sync([makeEnv('dev'), makeEnv('qa')]);
      const first = await Promise.race([
        held.then(() => 'synced'),
        new Promise((r) => setTimeout(() => r('waiting'), 1_000)),
      ]);
      expect(first).toBe('waiting');
      fs.rmSync(lock);
      expect(await held).toBe('changed');
    } finally {
      other.kill();
    }
  });

  it('a writer killed anywhere while it takes or holds the lock leaves nothing to wait out', async () => {
    // A child that takes and gives back the lock as fast as it can, killed at a random moment;
    // each time the next sync here goes through at once, and nothing is left beside the config.
    const script = path.join(dir, 'writer.mts');
    fs.writeFileSync(
      script,
      [
        `import { HaproxyGateway } from ${JSON.stringify(SOURCE)};`,
        `const settings = { configPath: ${JSON.stringify(cfg)}, haproxyBin: 'true' };`,
        "const gw = new HaproxyGateway({ ...settings, timeoutMs: 20000, backendHost: '::1' });",
        // Its file's lock alone, as every sync takes it (the file is private to the gateway).
        "const file = gw['file'];",
        "process.stdout.write('ready\\n');",
        'for (;;) await file.locked(async () => undefined);',
      ].join('\n'),
    );
    const { spawn } = await import('node:child_process');
    for (let i = 0; i < 8; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) =>
          reject(new Error(`the writer exited (${code}) before it was ready`)),
        );
      });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const synced = gateway().sync(i % 2 ? [] : [makeEnv('dev')]);
      const waited = new Promise((r) => setTimeout(() => r('still waiting after 3 s'), 3_000));
      expect(await Promise.race([synced, waited]), `kill ${i}`).toBe('changed');
      expect(fs.readdirSync(dir).sort()).toEqual(['haproxy.cfg', 'writer.mts']);
    }
  }, 60_000);

  it('the step renders from every row when the config is not as a render left it', async () => {
    const rows = [makeEnv('dev'), makeEnv('uat', { httpPort: 18091 })];
    let reads = 0;
    const step = new HaproxyStep(new Gateways(gateway()), async () => (reads++, rows));
    const ctx = (name: string) => ({
      env: rows.find((r) => r.name === name)!,
      log: () => undefined,
      signal: new AbortController().signal,
    });
    await step.ensure(ctx('dev'));
    expect(reads).toBe(0);
    // A hand edit inside the managed backends, and an orphan route the rows do not hold.
    fs.writeFileSync(
      cfg,
      fs
        .readFileSync(cfg, 'utf8')
        .replace('  server s1 127.0.0.1:18090\n', '  server s1 127.0.0.1:18090\n  option httpchk\n')
        .replace(
          '# END DYNAMIC BACKENDS',
          'backend be_gone\n  server s1 127.0.0.1:1\n\n# END DYNAMIC BACKENDS',
        ),
    );
    expect(await step.ensure(ctx('uat'))).toMatch(/^route host_uat → be_uat added/);
    expect(reads).toBe(1);
    const text = fs.readFileSync(cfg, 'utf8');
    expect(text).not.toMatch(/httpchk|be_gone/);
    expect((await gateway().routes()).map((r) => r.name)).toEqual(['dev', 'uat']);
  });

  it('renders from every row when haproxy refuses the patched config', async () => {
    const rows = [makeEnv('dev'), makeEnv('uat', { httpPort: 18091 })];
    let reads = 0;
    const step = new HaproxyStep(new Gateways(gateway()), async () => (reads++, rows));
    await step.ensure({
      env: rows[0]!,
      log: () => undefined,
      signal: new AbortController().signal,
    });
    // Another backend twice, each as a render writes it: haproxy refuses a duplicate proxy name.
    fs.writeFileSync(
      cfg,
      fs
        .readFileSync(cfg, 'utf8')
        .replace(
          '# END DYNAMIC BACKENDS',
          'backend be_dev\n  server s1 127.0.0.1:1\n\n# END DYNAMIC BACKENDS',
        ),
    );
    expect(
      await step.ensure({
        env: rows[1]!,
        log: () => undefined,
        signal: new AbortController().signal,
      }),
    ).toMatch(/^route host_uat → be_uat added/);
    expect(reads).toBe(1);
    expect(fs.readFileSync(cfg, 'utf8').match(/backend be_dev\n/g)).toHaveLength(1);
    expect(await gateway().routes()).toEqual([
      { name: 'dev', backend: 'be_dev', server: '127.0.0.1:18090' },
      { name: 'uat', backend: 'be_uat', server: '127.0.0.1:18091' },
    ]);
  });

  it('the step adds its own route on ensure, drops it on remove, and checks', async () => {
    const rows = [makeEnv('dev'), makeEnv('uat', { httpPort: 18091 })];
    const step = new HaproxyStep(new Gateways(gateway()), async () => rows);
    const ctx = (name: string) => ({
      env: rows.find((r) => r.name === name)!,
      log: () => undefined,
      signal: new AbortController().signal,
    });
    expect(await step.ensure(ctx('dev'))).toBe(
      'route host_dev → be_dev added, config validated and reloaded',
    );
    // An environment's own route alone: the other rows are not read.
    expect((await gateway().routes()).map((r) => r.name)).toEqual(['dev']);
    expect(await step.ensure(ctx('uat'))).toBe(
      'route host_uat → be_uat added, config validated and reloaded',
    );
    expect(await step.ensure(ctx('uat'))).toBe('route already present');
    expect(await assess(step, rows[0]!, { route: '127.0.0.1:18090' })).toEqual([]);
    expect(await assess(step, rows[0]!, { route: '127.0.0.1:18099' })).toEqual([
      {
        kind: 'mismatch',
        system: 'haproxy',
        detail: 'be_dev goes to 127.0.0.1:18090, the database says 127.0.0.1:18099',
        fix: { verb: 'sync', args: ['dev'] },
      },
    ]);
    expect(await step.remove(ctx('dev'))).toBe(
      'route for "dev" removed, config validated and reloaded',
    );
    expect((await gateway().routes()).map((r) => r.name)).toEqual(['uat']);
    expect(await assess(step, rows[0]!, { route: '127.0.0.1:18090' })).toEqual([
      {
        kind: 'missing',
        system: 'haproxy',
        detail: 'no route for "dev"',
        fix: { verb: 'sync', args: ['dev'] },
      },
    ]);
    expect(await assess(step, makeEnv('x', { haproxyRoute: false }))).toBe('skipped');
    const unset = new HaproxyStep(new Gateways(null), async () => rows);
    expect(unset.skipReason(rows[0]!)).toBe('HAPROXY_CONFIG is not set');
    expect(await assess(unset, rows[0]!)).toBe('skipped');
    expect(step.skipReason(makeEnv('x', { haproxyRoute: false }))).toBe(
      'haproxy_route is false for this environment',
    );
  });
});

describe('splitArgv', () => {
  it.each([
    ['docker kill -s HUP haproxy-gw', ['docker', 'kill', '-s', 'HUP', 'haproxy-gw']],
    [`systemctl reload "haproxy service"`, ['systemctl', 'reload', 'haproxy service']],
    [`sh -c 'echo "hi there"'`, ['sh', '-c', 'echo "hi there"']],
    ['a\\ b  c', ['a b', 'c']],
    ['x ""', ['x', '']],
  ])('%s', (line, argv) => expect(splitArgv(line)).toEqual(argv));

  it('refuses shell syntax and unterminated quotes', () => {
    expect(() => splitArgv('kill -HUP $(cat pid) | tee')).toThrow('"|" needs a shell');
    expect(() => splitArgv('echo "open')).toThrow('unterminated " quote in command line');
  });
});

describe("validating where HAProxy runs (upstream's haproxy-gw container)", () => {
  const upstream = fs.readFileSync(
    path.resolve(import.meta.dirname, '../fixtures/haproxy/upstream.cfg'),
    'utf8',
  );
  let restore: () => void;
  let fakes: Fakes;
  beforeEach(() => {
    fs.writeFileSync(cfg, upstream);
    // The container: its certificate under /usr/local/etc/haproxy/certs, portainer-ce resolvable.
    const root = path.join(dir, 'container');
    const certs = path.join(root, 'usr/local/etc/haproxy/certs');
    fs.mkdirSync(certs, { recursive: true });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=gw.test',
        '-keyout',
        path.join(certs, 'key.pem'),
        '-out',
        path.join(certs, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    fs.writeFileSync(
      path.join(certs, 'haproxy.pem'),
      fs.readFileSync(path.join(certs, 'cert.pem'), 'utf8') +
        fs.readFileSync(path.join(certs, 'key.pem'), 'utf8'),
    );
    fakes = setupFakes();
    fakes.env.KINDLER_FAKE_CONTAINERS = JSON.stringify({
      'haproxy-gw': { root, hosts: { 'portainer-ce': '127.0.0.1' } },
    });
    restore = fakes.apply();
  });
  afterEach(() => {
    restore();
    fakes.cleanup();
  });
  const inContainer = (checkCommand: string) =>
    new HaproxyGateway({
      configPath: cfg,
      haproxyBin: 'haproxy',
      checkCommand,
      timeoutMs: 20_000,
      backendHost: '127.0.0.1',
    });

  it('haproxy -c on the host refuses the upstream layout: its certificate and backends are not here', async () => {
    const error = await rejection(gateway().sync([makeEnv('dev')]));
    expect(error.message).toContain('checked with: haproxy -c -f {file}');
    expect(error.message).toMatch(/haproxy\.pem|portainer-ce/);
    expect(fs.readFileSync(cfg, 'utf8')).toBe(upstream);
  });

  it('HAPROXY_CHECK_COMMAND validates inside the container (config on stdin) and the file is replaced', async () => {
    const gw = inContainer('docker exec -i haproxy-gw haproxy -c -f /dev/stdin');
    expect(await gw.sync([makeEnv('dev')])).toBe('changed');
    const written = fs.readFileSync(cfg, 'utf8');
    expect(written).toContain('acl host_dev hdr_reg(host) -i ^[^.]+\\.dev\\.[^:]+');
    expect(written).toContain('bind *:443 ssl crt /usr/local/etc/haproxy/certs/haproxy.pem');
    expect(fakes.argv()).toEqual([
      ['docker', 'exec', '-i', 'haproxy-gw', 'haproxy', '-c', '-f', '/dev/stdin'],
    ]);
  });

  it('a config the container refuses is refused with what haproxy said there, and nothing changes', async () => {
    fs.writeFileSync(
      cfg,
      upstream.replace(
        'default_backend be_default_404\n\nfrontend fe_https',
        'default_backend be_nowhere\n\nfrontend fe_https',
      ),
    );
    const before = fs.readFileSync(cfg, 'utf8');
    const error = await rejection(
      inContainer('docker exec -i haproxy-gw haproxy -c -f /dev/stdin').sync([makeEnv('dev')]),
    );
    expect(error.message).toContain(
      'checked with: docker exec -i haproxy-gw haproxy -c -f /dev/stdin',
    );
    expect(error.message).toContain('be_nowhere');
    expect(fs.readFileSync(cfg, 'utf8')).toBe(before);
  });

  it('a {file} placeholder gets the candidate file', async () => {
    const gw = inContainer('haproxy -c -f {file}');
    fs.writeFileSync(cfg, base);
    expect(await gw.sync([makeEnv('dev')])).toBe('changed');
  });
});
