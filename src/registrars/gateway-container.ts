// A site's own gateway: an HAProxy container on the site's Docker, reached through the site's
// DOCKER_HOST (or context) as its clusters are — no agent of ours on the host. Its config is read
// with `docker exec <container> cat`, checked by that container's haproxy (`haproxy -c -f
// /dev/stdin`, where its certificates and names exist), written beside itself and renamed into
// place (`cp /dev/stdin`, `mv`), and reloaded with `docker kill -s HUP` (HAProxy's master process
// reloads on SIGHUP). Writers on every machine are serialised by a directory made in the container
// (`mkdir` succeeds for one of them).
import path from 'node:path';
import { siteEnv, type Site, type SiteGateway } from '../domain/index.js';
import { run, type RunOptions } from '../system/exec.js';
import { refusal, type GatewayFile } from './haproxy-gateway.js';

export interface ContainerFileSettings {
  site: Site;
  gateway: SiteGateway;
  timeoutMs: number;
  /** How long a writer waits for the lock before it says who to ask (ms). */
  lockWaitMs?: number;
}

export class ContainerGatewayFile implements GatewayFile {
  constructor(private readonly settings: ContainerFileSettings) {}

  get where(): string {
    const { gateway, site } = this.settings;
    return `${gateway.container}:${gateway.configPath} on site ${site.name}`;
  }

  private docker(args: string[], options: RunOptions = {}) {
    return run('docker', args, {
      env: siteEnv(this.settings.site),
      timeoutMs: this.settings.timeoutMs,
      ...options,
    });
  }

  private exec(args: string[], input?: string) {
    const { container } = this.settings.gateway;
    return this.docker(
      input === undefined ? ['exec', container, ...args] : ['exec', '-i', container, ...args],
      input === undefined ? {} : { input },
    );
  }

  async read(): Promise<string> {
    const { stdout } = await this.docker(
      ['exec', this.settings.gateway.container, 'cat', this.settings.gateway.configPath],
      { keepTrailingNewline: true },
    );
    return stdout;
  }

  async check(text: string): Promise<void> {
    const argv = ['haproxy', '-c', '-f', '/dev/stdin'];
    try {
      await this.exec(argv, text);
    } catch (error) {
      const { container } = this.settings.gateway;
      throw refusal(error, `docker exec -i ${container} ${argv.join(' ')}`, this.where);
    }
  }

  async replace(text: string): Promise<void> {
    const file = this.settings.gateway.configPath;
    const temp = path.posix.join(path.posix.dirname(file), `.${path.posix.basename(file)}.kindler`);
    await this.exec(['cp', '/dev/stdin', temp], text);
    await this.exec(['mv', '-f', temp, file]);
  }

  async reload(): Promise<void> {
    const { container } = this.settings.gateway;
    try {
      await this.docker(['kill', '-s', 'HUP', container]);
    } catch (error) {
      throw new Error(
        `${this.where} was written but HAProxy was not reloaded: ${(error as Error).message}. ` +
          `To resolve, run: docker kill -s HUP ${container} (on site ${this.settings.site.name})`,
        { cause: error },
      );
    }
  }

  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.settings.gateway.configPath}.kindler.lock`;
    const deadline = Date.now() + (this.settings.lockWaitMs ?? 60_000);
    for (;;) {
      try {
        await this.exec(['mkdir', lock]);
        break;
      } catch (error) {
        // Made by another writer (File exists); anything else (a container gone) is the answer.
        if (!/File exists/.test((error as Error).message)) throw error;
        if (Date.now() > deadline)
          throw new Error(
            `${lock} in ${this.settings.gateway.container} on site ${this.settings.site.name} ` +
              `has been held by another writer for over a minute. To resolve, remove it if no ` +
              `kindler process is writing: docker exec ${this.settings.gateway.container} rmdir ` +
              lock,
            { cause: error },
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    try {
      return await fn();
    } finally {
      await this.exec(['rmdir', lock]).catch(() => undefined);
    }
  }
}
