// The live gateway config: render, validate with the real `haproxy -c -f` on a temporary copy,
// then replace the file atomically and reload. A rejected config leaves the live file untouched.
// Writers are serialised in this process and across processes (a lock file next to the config).
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  parseRoutes,
  renderGateway,
  type GatewayRow,
  type GatewaySettings,
  type Route,
} from './haproxy-config.js';
import { splitArgv } from '../system/argv.js';
import { machineId, ownerAlive, processTag } from '../system/owner.js';
import { CliError, run, tail } from '../system/exec.js';

export interface HaproxySettings extends GatewaySettings {
  configPath: string;
  reloadCommand?: string | undefined;
  haproxyBin: string;
  /**
   * How a config is validated, as an argument list (HAPROXY_CHECK_COMMAND): `{file}` stands for
   * the candidate file; without `{file}` the candidate is given on standard input (for
   * `docker exec -i haproxy-gw haproxy -c -f /dev/stdin`, where the certificates and backend
   * names the config uses exist). Default: `<HAPROXY_BIN> -c -f {file}`.
   */
  checkCommand?: string | undefined;
  timeoutMs: number;
  /** A lock older than this is taken to be left by a dead process. */
  staleLockMs?: number;
}

/**
 * A lock whose writer (same machine) no longer runs can be taken at once — also when its pid now
 * names another process (pids are reused, quickly on a busy machine with a small pid_max): the
 * lock holds its writer's pid and start.
 */
async function holderDead(lock: string): Promise<boolean> {
  const held = (await fs.readFile(lock, 'utf8').catch(() => '')).trim();
  if (!/^\d+(@\d+)?$/.test(held) || held.split('@')[0] === String(process.pid)) return false;
  return !ownerAlive(`gateway:${machineId()}:${held}`);
}

export class HaproxyGateway {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly settings: HaproxySettings) {}

  async routes(): Promise<Route[]> {
    return parseRoutes(await fs.readFile(this.settings.configPath, 'utf8'));
  }

  /** Renders the dynamic sections from these rows; 'unchanged' writes and reloads nothing. */
  sync(envs: GatewayRow[]): Promise<'changed' | 'unchanged'> {
    const next = this.queue.then(() => this.withFileLock(() => this.syncNow(envs)));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async syncNow(envs: GatewayRow[]): Promise<'changed' | 'unchanged'> {
    const { configPath } = this.settings;
    const current = await fs.readFile(configPath, 'utf8');
    const rendered = renderGateway(current, envs, this.settings);
    if (rendered === current) return 'unchanged';
    const temp = path.join(
      path.dirname(configPath),
      `.${path.basename(configPath)}.kindler-${process.pid}.tmp`,
    );
    await fs.writeFile(temp, rendered, { mode: (await fs.stat(configPath)).mode });
    const argv = this.settings.checkCommand
      ? splitArgv(this.settings.checkCommand)
      : [this.settings.haproxyBin, '-c', '-f', '{file}'];
    const onStdin = !argv.some((a) => a.includes('{file}'));
    const [command, ...args] = argv.map((a) => a.replaceAll('{file}', temp));
    try {
      if (!command) throw new Error('HAPROXY_CHECK_COMMAND is empty');
      await run(command, args, {
        timeoutMs: this.settings.timeoutMs,
        ...(onStdin ? { input: rendered } : {}),
      });
    } catch (error) {
      await fs.rm(temp, { force: true });
      const output =
        error instanceof CliError
          ? tail(`${error.stderr}\n${error.stdout}`.trim(), 8)
          : (error as Error).message;
      throw new Error(
        `haproxy rejected the new config (checked with: ` +
          `${argv.join(' ')}); ${configPath} was left unchanged:\n${output}`,
        { cause: error },
      );
    }
    await fs.rename(temp, configPath);
    await this.reload();
    return 'changed';
  }

  private async reload(): Promise<void> {
    const line = this.settings.reloadCommand;
    if (!line) return;
    const [command, ...args] = splitArgv(line);
    if (!command) return;
    try {
      await run(command, args, { timeoutMs: this.settings.timeoutMs });
    } catch (error) {
      throw new Error(
        `${this.settings.configPath} was written but HAProxy ` +
          `was not reloaded: ${(error as Error).message}. To resolve, run: ${line}`,
        { cause: error },
      );
    }
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.settings.configPath}.kindler.lock`;
    const stale = this.settings.staleLockMs ?? 120_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(lock, 'wx');
        await handle.writeFile(`${processTag()}\n`);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await fs.stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > stale || (await holderDead(lock))) await fs.rm(lock, { force: true });
        else if (attempt > 600)
          throw new Error(
            `${lock} is held by another process for over a minute. To resolve, remove it if no ` +
              `kindler process is running`,
            { cause: error },
          );
        else await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      return await fn();
    } finally {
      await fs.rm(lock, { force: true });
    }
  }
}
