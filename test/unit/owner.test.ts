// A worker's name tells where it runs: the host and the pid namespace, so replicas in containers
// on one host's network (one host name, a pid namespace each) are never taken for one another.
import http from 'node:http';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/server/http-server.js';
import { machineId, ownerAlive, processTag, workerName } from '../../src/system/owner.js';

describe('worker names', () => {
  it('carry the host and the pid namespace', () => {
    expect(machineId()).toMatch(new RegExp(`^${os.hostname()}~\\d+$`));
    expect(workerName('server', 2 ** 22 + 17)).toBe(`server:${machineId()}:${2 ** 22 + 17}`);
    expect(workerName('server')).toMatch(new RegExp(`^server:${machineId()}:${process.pid}@\\d+$`));
  });

  it('tell a process from a later one given its reused pid', () => {
    const [pid, start] = processTag().split('@').map(Number);
    expect(ownerAlive(`cli:${machineId()}:${pid}@${start}`)).toBe(true);
    expect(ownerAlive(`cli:${machineId()}:${pid}@${start! - 1}`)).toBe(false);
    // A name written before starts were kept: the pid alone tells, as it did.
    expect(ownerAlive(`cli:${machineId()}:${pid}`)).toBe(true);
  });

  it('judge a pid only in their own namespace; elsewhere the lease tells', () => {
    expect(ownerAlive(workerName('cli'))).toBe(true);
    expect(ownerAlive(workerName('cli', 2 ** 22 + 17))).toBe(false);
    // Same host name, another container's namespace: its pid 1 is not ours to look up.
    expect(ownerAlive(`server:${os.hostname()}~1:1`)).toBe(true);
    expect(ownerAlive(`server:${os.hostname()}~1:${2 ** 22 + 17}`)).toBe(true);
  });
});

describe('replicas sharing a port', () => {
  const get = (port: number) =>
    new Promise<string>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject),
    );
  const answering = (name: string) => async (_: unknown, res: http.ServerResponse) => {
    res.end(name);
    return true;
  };

  it('listen together with reusePort, and are refused without it', async () => {
    const a = await startHttpServer([answering('a')], '127.0.0.1', 0, { reusePort: true });
    const port = (a.address() as { port: number }).port;
    const b = await startHttpServer([answering('b')], '127.0.0.1', port, { reusePort: true });
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await get(port));
    expect([...seen].sort()).toEqual(['a', 'b']);
    await expect(startHttpServer([answering('c')], '127.0.0.1', port)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await Promise.all([a, b].map((s) => new Promise((r) => s.close(r))));
  });
});
