// A child process (git, k3d, kind, docker, haproxy) sees an allow-listed environment: what the
// tools need, never the bot's secrets. Read from a real child.
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/system/exec.js';

const SECRETS = {
  WEBHOOK_SECRET: 'whsec-0123456789',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----',
  PORTAINER_API_KEY: 'ptr_childenv0123456789',
  DATABASE_URL: 'postgres://kindler:db-pass-0123@127.0.0.1/kindler',
  KINDLER_DASHBOARD_TOKEN: 'dash-token-0123456789',
  GIT_REPO_URL: 'https://bot:git-pass-0123@git.example.test/org/gitops.git',
  GIT_PASSWORD: 'git-pass-0123',
};
const saved: Record<string, string | undefined> = {};
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
const set = (vars: Record<string, string>) => {
  for (const [k, v] of Object.entries(vars)) {
    saved[k] ??= process.env[k];
    process.env[k] = v;
  }
};
const childEnvironment = async (env?: Record<string, string>) =>
  Object.fromEntries(
    (await run('env', [], env ? { env } : {})).stdout
      .split('\n')
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('the environment of a child process', () => {
  it('holds what the tools need and none of the secrets', async () => {
    set({ ...SECRETS, DOCKER_HOST: 'unix:///var/run/docker.sock', KUBECONFIG: '/tmp/kc' });
    const env = await childEnvironment();
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.DOCKER_HOST).toBe('unix:///var/run/docker.sock');
    expect(env.KUBECONFIG).toBe('/tmp/kc');
    for (const name of Object.keys(SECRETS)) expect(env[name], name).toBeUndefined();
    const all = Object.values(env).join('\n');
    for (const value of ['whsec-0123456789', 'db-pass-0123', 'git-pass-0123', 'ptr_childenv'])
      expect(all).not.toContain(value);
  });

  it('adds what one command needs, and what KINDLER_CHILD_ENV names', async () => {
    set({ K3D_FIX_DNS: '1', KINDLER_CHILD_ENV: 'K3D_*', OTHER_THING: 'x' });
    const env = await childEnvironment({ GIT_TERMINAL_PROMPT: '0' });
    expect(env).toMatchObject({ GIT_TERMINAL_PROMPT: '0', K3D_FIX_DNS: '1' });
    expect(env.OTHER_THING).toBeUndefined();
  });
});
