// The CLI's front: help and the version from help.ts alone; any command is handed to dispatch.ts,
// loaded only then — `kindler help` and `kindler --version` load nothing else. main.ts only calls
// this.
import type { Config } from '../config/config.js';
import type { Runtime } from '../runtime.js';
import { EXIT } from './exit-status.js';
import { COMMANDS, commandHelp, helpText, isCommand, version } from './help.js';
import { err, out, type CliIo } from './io.js';

export async function runCli(
  argv: string[],
  io: CliIo,
  /** How the runtime is opened (tests pass their own); the CLI's own otherwise. */
  open?: (config: Config) => Promise<Runtime>,
): Promise<number> {
  const [command, ...args] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    out(io, version());
    return EXIT.ok;
  }
  if (command === 'help' && isCommand(args[0])) {
    out(io, commandHelp(args[0]));
    return EXIT.ok;
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(io, helpText());
    return command ? EXIT.ok : EXIT.usage;
  }
  if (!isCommand(command)) {
    const { closest } = await import('../commands/suggest.js');
    const near = closest(command, COMMANDS);
    const suggestion = near
      ? `; did you mean "${near}"? (kindler ${[near, ...args].join(' ')})`
      : '';
    err(io, `kindler: unknown command "${command}"${suggestion}\nkindler help lists the commands.`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    out(io, commandHelp(command));
    return EXIT.ok;
  }
  const { dispatch } = await import('./dispatch.js');
  return dispatch(command, args, io, open);
}
