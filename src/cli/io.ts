// Everything the CLI touches of its process, injected so commands are testable in-process.
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: the engine stops between steps and hands the operation back. */
  signal?: AbortSignal;
}

export const out = (io: CliIo, line = ''): void => void io.stdout.write(`${line}\n`);
export const err = (io: CliIo, line = ''): void => void io.stderr.write(`${line}\n`);
