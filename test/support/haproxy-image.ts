// A small HAProxy image built here, since no image can be pulled: a root filesystem holding
// Debian's haproxy binary, the libraries it links and the loader, imported with `docker import`
// and run as the official image runs it (master-worker, config in /usr/local/etc/haproxy).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const HAPROXY_IMAGE = 'kindler-test/haproxy:local';

export function buildHaproxyImage(): string {
  const listed = execFileSync('docker', ['images', '-q', HAPROXY_IMAGE], { encoding: 'utf8' });
  if (listed.trim()) return HAPROXY_IMAGE;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-haproxy-root-'));
  try {
    const binary = execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim();
    const real = fs.realpathSync(binary);
    const libraries = execFileSync('ldd', [real], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1])
      .filter((l): l is string => Boolean(l));
    for (const file of [real, ...libraries]) {
      const target = path.join(root, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(fs.realpathSync(file), target);
      fs.chmodSync(target, 0o755);
    }
    fs.mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
    if (real !== '/usr/sbin/haproxy') fs.copyFileSync(real, path.join(root, 'usr/sbin/haproxy'));
    for (const dir of ['etc', 'tmp', 'usr/local/etc/haproxy', 'var/lib/haproxy', 'run'])
      fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'etc/passwd'),
      'root:x:0:0::/:/bin/false\nhaproxy:x:99:99::/:/bin/false\n',
    );
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nhaproxy:x:99:\n');
    const tar = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 512 * 1024 * 1024 });
    execFileSync(
      'docker',
      [
        'import',
        '--change',
        'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
        '-',
        HAPROXY_IMAGE,
      ],
      { input: tar },
    );
    return HAPROXY_IMAGE;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
