// The live gateway config: render, validate with the real `haproxy -c` before it is used, then
// replace the file whole and reload. A rejected config leaves the live file untouched. Writers are
// serialised in this process and across processes. The file is this machine's (HAPROXY_CONFIG, a
// lock file beside it) or a site's HAProxy container's (gateway-container.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  parseRoutes,
  patchGateway,
  renderGateway,
  type GatewayRow,
  type GatewaySettings,
  type Route,
} from './haproxy-config.js';
import { splitArgv } from '../system/argv.js';
import { machineId, ownerAlive, processTag } from '../system/owner.js';
import { CliError, run, tail } from '../system/exec.js';

/** Where a gateway's config lives, and how it is checked, put in place and reloaded. */
export interface GatewayFile {
  /** How messages name it: its path, or `<container>:<path> on site <name>`. */
  readonly where: string;
  read(): Promise<string>;
  /** Checks `text` as the HAProxy that loads it would; throws with what haproxy said. */
  check(text: string): Promise<void>;
  /** Puts `text` in place whole: a reader sees the old config or the new one. */
  replace(text: string): Promise<void>;
  reload(): Promise<void>;
  /** Runs `fn` holding the config against every other writer. */
  locked<T>(fn: () => Promise<T>): Promise<T>;
}

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

/** What haproxy said of a config it refused, and that the live one was left as it was. */
export function refusal(error: unknown, checkedWith: string, where: string): Error {
  const output =
    error instanceof CliError
      ? tail(`${error.stderr}\n${error.stdout}`.trim(), 8)
      : (error as Error).message;
  return new Error(
    `haproxy rejected the new config (checked with: ${checkedWith}); ${where} was left ` +
      `unchanged:\n${output}`,
    { cause: error },
  );
}

/**
 * A lock whose writer (same machine) no longer runs can be taken at once — also when its pid now
 * names another process (pids are reused, quickly on a busy machine with a small pid_max): the
 * lock holds its writer's pid and start.
 */
async function holderDead(lock: string): Promise<boolean> {
  return tagDead((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
}

/** Whether `tag` (`pid@start`) names a process of this machine that no longer runs. */
function tagDead(tag: string): boolean {
  if (!/^\d+(@\d+)?$/.test(tag) || tag.split('@')[0] === String(process.pid)) return false;
  return !ownerAlive(`gateway:${machineId()}:${tag}`);
}

/**
 * Makes `lock` holding this process's tag, whole or not at all: the tag is written to a file of
 * its own, which is then linked as the lock (a link fails when the lock exists). A writer killed
 * between creating the lock and writing in it would leave an empty lock that names nobody, waited
 * on until it is stale. What a writer killed before the link leaves is swept by the next.
 */
async function takeLock(lock: string): Promise<void> {
  const tag = processTag();
  const own = `${lock}.${tag}`;
  await fs.writeFile(own, `${tag}\n`);
  try {
    await fs.link(own, lock);
  } catch (error) {
    // A file system without hard links: the lock is made and written, in two steps.
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? ''))
      throw error;
    await fs.writeFile(lock, `${tag}\n`, { flag: 'wx' });
  } finally {
    await fs.rm(own, { force: true });
  }
  const dir = path.dirname(lock);
  const prefix = `${path.basename(lock)}.`;
  // Named by their writer, whatever they hold (one may have died before writing in it).
  for (const name of await fs.readdir(dir).catch(() => [] as string[]))
    if (name.startsWith(prefix) && tagDead(name.slice(prefix.length)))
      await fs.rm(path.join(dir, name), { force: true });
}

export class HaproxyGateway {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly file: GatewayFile;
  constructor(
    private readonly settings: GatewaySettings & (HaproxySettings | { file: GatewayFile }),
  ) {
    this.file = 'file' in settings ? settings.file : new LocalGatewayFile(settings);
  }

  get where(): string {
    return this.file.where;
  }

  async routes(): Promise<Route[]> {
    return parseRoutes(await this.file.read());
  }

  /** Renders the dynamic sections from these rows; 'unchanged' writes and reloads nothing. */
  sync(envs: GatewayRow[]): Promise<'changed' | 'unchanged'> {
    return this.change(
      () => null,
      async (current) => renderGateway(current, envs, this.settings),
    );
  }

  /**
   * Puts one environment's route in (`row`), or takes it out (null), leaving the others as they
   * are. Renders from every row (`all`) instead when the config is not as a render left it, or
   * when haproxy refuses the patched one (a fault elsewhere in the managed sections, which a render
   * puts right).
   */
  put(
    name: string,
    row: GatewayRow | null,
    all: () => Promise<GatewayRow[]>,
  ): Promise<'changed' | 'unchanged'> {
    const whole = async (current: string) => renderGateway(current, await all(), this.settings);
    return this.change((current) => patchGateway(current, name, row, this.settings), whole);
  }

  /**
   * The config `patch` gives, checked, put in place and loaded ('unchanged' writes and reloads
   * nothing); `whole`'s instead when `patch` gives none or haproxy refuses what it gave.
   */
  private change(
    patch: (current: string) => string | null,
    whole: (current: string) => Promise<string>,
  ): Promise<'changed' | 'unchanged'> {
    const done = this.queue.then(() =>
      this.file.locked(async () => {
        const current = await this.file.read();
        const patched = patch(current);
        let text = patched ?? (await whole(current));
        if (text === current) return 'unchanged';
        try {
          await this.file.check(text);
        } catch (error) {
          const rendered = patched === null ? text : await whole(current);
          if (rendered === text) throw error;
          text = rendered;
          if (text === current) return 'unchanged';
          await this.file.check(text);
        }
        await this.file.replace(text);
        await this.file.reload();
        return 'changed';
      }),
    );
    this.queue = done.catch(() => undefined);
    return done;
  }
}

/** HAPROXY_CONFIG: a file on this machine, a lock file beside it. */
class LocalGatewayFile implements GatewayFile {
  /** The candidate `check` wrote and validated, renamed into place by `replace`. */
  private checked: { text: string; temp: string } | null = null;
  constructor(private readonly settings: HaproxySettings) {}

  get where(): string {
    return this.settings.configPath;
  }

  read(): Promise<string> {
    return fs.readFile(this.settings.configPath, 'utf8');
  }

  private async write(text: string): Promise<string> {
    const { configPath } = this.settings;
    const temp = path.join(
      path.dirname(configPath),
      `.${path.basename(configPath)}.kindler-${process.pid}.tmp`,
    );
    await fs.writeFile(temp, text, { mode: (await fs.stat(configPath)).mode });
    return temp;
  }

  async check(text: string): Promise<void> {
    const temp = await this.write(text);
    const argv = this.settings.checkCommand
      ? splitArgv(this.settings.checkCommand)
      : [this.settings.haproxyBin, '-c', '-f', '{file}'];
    const onStdin = !argv.some((a) => a.includes('{file}'));
    const [command, ...args] = argv.map((a) => a.replaceAll('{file}', temp));
    try {
      if (!command) throw new Error('HAPROXY_CHECK_COMMAND is empty');
      await run(command, args, {
        timeoutMs: this.settings.timeoutMs,
        ...(onStdin ? { input: text } : {}),
      });
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw refusal(error, argv.join(' '), this.where);
    }
    this.checked = { text, temp };
  }

  async replace(text: string): Promise<void> {
    const temp = this.checked?.text === text ? this.checked.temp : await this.write(text);
    this.checked = null;
    await fs.rename(temp, this.settings.configPath);
  }

  async reload(): Promise<void> {
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

  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.settings.configPath}.kindler.lock`;
    const stale = this.settings.staleLockMs ?? 120_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await takeLock(lock);
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
