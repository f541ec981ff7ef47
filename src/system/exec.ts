// The only module that imports execa. Commands run with argument arrays (never a shell string),
// a timeout, and an environment we choose; failures become CliError carrying argv and output
// tails, redacted, so a report can show what ran and what it said.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Redactor } from '../domain/redact.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Secret values to scrub from the error text (stdout/stderr/argv). */
  secrets?: string[];
  /** Keep stdout's final newline (file contents); by default it is stripped. */
  keepTrailingNewline?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const tail = (text: string, lines = 15): string =>
  text.trimEnd().split('\n').slice(-lines).join('\n');

/**
 * What a child process may see of this process's environment: what the tools need to run and to
 * reach Docker, Kubernetes and the network — never the bot's own secrets (WEBHOOK_SECRET,
 * PRIVATE_KEY, DATABASE_URL, PORTAINER_API_KEY, GIT_PASSWORD, the dashboard token…). A caller
 * adds what one command needs (git's askpass credentials) through `env`; KINDLER_CHILD_ENV names
 * more variables to pass (comma-separated; `PREFIX_*` for a prefix).
 */
const CHILD_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_RUNTIME_DIR',
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'DOCKER_CONTEXT',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
  'KUBECONFIG',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'SSH_AUTH_SOCK',
  'GIT_SSH_COMMAND',
];

export function childEnv(
  parent: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const more = (parent.KINDLER_CHILD_ENV ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const allowed = (name: string) =>
    CHILD_ENV.includes(name) ||
    more.some((m) => (m.endsWith('*') ? name.startsWith(m.slice(0, -1)) : name === m));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && allowed(k)) out[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Children die with this process: on Linux each runs under `setpriv --pdeathsig KILL` (util-linux),
 * so a worker killed half-way through `k3d cluster create` does not leave the create running
 * beside the one its resumed step starts. Where setpriv is missing, children run as they are.
 */
let setpriv: string | null | undefined;
function deathSignalWrapper(pathVar = process.env.PATH ?? ''): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  for (const dir of pathVar.split(path.delimiter).concat('/usr/bin', '/bin')) {
    const candidate = path.join(dir, 'setpriv');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      setpriv = candidate;
      break;
    } catch {
      // not here
    }
  }
  return setpriv;
}

/** The file and argv that run `command` (under setpriv when there is one). */
function wrapped(command: string, args: readonly string[]): [string, string[]] {
  const wrapper = deathSignalWrapper();
  return wrapper
    ? [wrapper, ['--pdeathsig', 'KILL', '--', command, ...args]]
    : [command, [...args]];
}

/** Runs a command; resolves with its output on exit 0, rejects with CliError otherwise. */
export async function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await runAllowingFailure(command, args, options);
  if (result.exitCode === 0) return result;
  const redactor = new Redactor(options.secrets ?? []);
  const output = tail(result.stderr || result.stdout);
  throw new CliError(
    redactor.redact(`${command} exited ${result.exitCode}${output ? `: ${output}` : ''}`),
    command,
    args.map((a) => redactor.redact(a)),
    result.exitCode,
    redactor.redact(result.stdout),
    redactor.redact(result.stderr),
    false,
  );
}

/**
 * Runs a command and returns whatever exit code it had; rejects only if it could not run or timed
 * out.
 */
export async function runAllowingFailure(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const redactor = new Redactor(options.secrets ?? []);
  const wrapper = deathSignalWrapper();
  const [file, argv] = wrapped(command, args);
  /** The command never ran to an exit code of its own (not found, spawn error). */
  const couldNotRun = (reason: string, cause?: unknown) =>
    new CliError(
      redactor.redact(reason),
      command,
      args.map((a) => redactor.redact(a)),
      null,
      '',
      '',
      false,
      cause === undefined ? undefined : { cause },
    );
  try {
    // Loaded by the first command run: a process that runs none (a CLI read) never pays for it.
    const { execa } = await import('execa');
    const result = await execa(file, argv, {
      reject: false,
      stripFinalNewline: options.keepTrailingNewline !== true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: childEnv(process.env, options.env),
      extendEnv: false,
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    if (result.timedOut || result.isCanceled) {
      const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : 'was cancelled';
      throw new CliError(
        redactor.redact(`${command} ${why}`),
        command,
        args.map((a) => redactor.redact(a)),
        null,
        redactor.redact(String(result.stdout ?? '')),
        redactor.redact(String(result.stderr ?? '')),
        result.timedOut,
      );
    }
    // setpriv reports a command it could not start as exit 127 with "failed to execute".
    const notFound =
      result.code === 'ENOENT' ||
      (wrapper !== null &&
        result.exitCode === 127 &&
        /^setpriv: failed to execute/m.test(String(result.stderr ?? '')));
    if (result.exitCode === undefined || notFound) {
      const reason = notFound
        ? `${command} was not found on PATH. To resolve, install it or put it on PATH`
        : `${command} could not run: ${result.shortMessage ?? 'unknown error'}`;
      throw couldNotRun(reason);
    }
    return {
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      exitCode: result.exitCode,
    };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw couldNotRun(`${command} could not run: ${(error as Error).message}`, error);
  }
}

/** Whether `command` is an executable on PATH (or, given with a slash, at that path). */
export function onPath(command: string, searchPath = process.env.PATH ?? ''): boolean {
  const candidates = command.includes('/')
    ? [command]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  return candidates.some((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Starts a long-lived program in its own session, its output appended to `logFile`, and does not
 * wait for it: it outlives this process (the embedded PostgreSQL that the server and the CLI
 * share).
 * Resolves with its pid once it has been spawned.
 */
export async function spawnDetached(
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; logFile: string },
): Promise<number> {
  const log = fs.openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(command, [...args], {
      env: options.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    child.unref();
    return child.pid ?? 0;
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Starts a command whose input and output are streams (a CGI program such as `git http-backend`),
 * with only the environment given (nothing of this process's own), dying with this process.
 */
export function spawnStream(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): ChildProcess {
  const [file, argv] = wrapped(command, args);
  return spawn(file, argv, { env: childEnv({}, env), stdio: ['pipe', 'pipe', 'pipe'] });
}
