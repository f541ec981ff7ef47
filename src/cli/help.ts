// What the CLI says about itself — its commands, their usage and what they do, the exit codes, its
// version — with no other imports: `kindler help` and `kindler --version` load nothing else.
import fs from 'node:fs';
import path from 'node:path';
import { EXIT } from './exit-status.js';
import { packageRoot } from '../system/package-root.js';

/** Each command's arguments, as its usage line. */
export const USAGE = {
  create:
    'kindler create <name> [k3d|kind | --provider k3d|kind] [--ttl 24h|never] [--no-portainer] ' +
    '[--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… ' +
    '[--site <site> | --where key=value…] [--json]',
  delete:
    'kindler delete <name> | --label key=value… | --confirm <batch> | --cancel <batch> [--json]',
  stop: 'kindler stop <name> | --label key=value… | --confirm <batch> | --cancel <batch> [--json]',
  start:
    'kindler start <name> | --label key=value… | --confirm <batch> | --cancel <batch> [--json]',
  retry: 'kindler retry <name> [--json]',
  cancel: 'kindler cancel <name> [--json]',
  extend:
    'kindler extend <name> | --label key=value… [duration: 24h (the default), 3d, never] | ' +
    '--confirm <batch> | --cancel <batch> [--json]',
  update:
    'kindler update <name> [--ttl 24h|never] [--portainer|--no-portainer] ' +
    '[--haproxy|--no-haproxy] [--provider k3d|kind] [--servers N] [--agents N] [--cpus N] ' +
    '[--memory 2g] [--label key=value|key-]… [--confirm] [--json]',
  rollback: 'kindler rollback <name> [version] [--confirm] [--json]',

  list: 'kindler list [--label key=value]… [--json]',
  status: 'kindler status <name> [--json]',
  kubeconfig: 'kindler kubeconfig <name>',
  history: 'kindler history <name> [--json]',
  audit: 'kindler audit [--actor <who>] [--env <name>] [--since 24h|<ISO time>] [--json]',

  check: 'kindler check [--json]',
  sync: 'kindler sync [name…] | --label key=value… | --confirm <batch> | --cancel <batch> [--json]',
  prune: 'kindler prune [name…] [--confirm <preview>] [--json]',

  migrate: 'kindler migrate',
  'import-csv': 'kindler import-csv <file> [--json]',
  'import-sqlite': 'kindler import-sqlite <kindler.db> [--json]',
  'export-csv': 'kindler export-csv [file]',
  db: 'kindler db status|stop',
  bootstrap: 'kindler bootstrap [--check] [--show-password] [--json]',
  teardown: 'kindler teardown [--confirm]',
} as const;
/** The flags of `kindler audit`. */
export const AUDIT_FLAGS = {
  actor: { type: 'string' },
  env: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
} as const;
/** The flags of `kindler list`: `--label` as often as wanted. */
export const LIST_FLAGS = { label: { type: 'string', multiple: true } } as const;

export type CommandName = keyof typeof USAGE;
export const COMMANDS = Object.keys(USAGE) as CommandName[];

/** What each command does, one line, in the order help lists them. */
const SUMMARY: Record<CommandName, string> = {
  create: 'create an environment: row, branch, cluster, Portainer, Argo CD, route',
  delete: 'delete an environment (the row goes last)',
  stop: "stop an environment's cluster, keeping it (status stopped)",
  start: 'start a stopped environment again and wait until it answers',
  retry: 'resume the last failed or interrupted operation',
  cancel: 'stop the running operation after its current step',
  extend: "push an environment's expiry back (never: it no longer expires)",
  update:
    'change an environment in place, running only the steps the change needs (another provider ' +
    'or node count recreates its cluster: --confirm)',
  rollback: "apply an earlier version's configuration (default: the one before) as an update",
  list: 'list environments',
  status: 'show one environment and its last operation',
  kubeconfig: "print an environment's kubeconfig (context <provider>-<name>)",
  history: "list an environment's configuration versions, each with what it changed",
  audit: 'list every operation and version: who, where, what, with what outcome',
  check:
    'compare the database with Git, clusters, Portainer, Argo CD and HAProxy ' +
    '(exit 5 on differences)',
  sync: 'recreate what the database implies (deletes nothing)',
  prune: 'preview orphans; --confirm <preview> archives branches and removes what it listed',
  migrate: 'apply database migrations',
  db: 'the embedded PostgreSQL under the data dir: where it is, whether it runs; stop it',
  'import-csv': 'adopt environments from an upstream environments.csv',
  'import-sqlite': "adopt environments from upstream Kindler's SQLite kindler.db",
  'export-csv': 'write environments.csv (stdout without a file)',
  bootstrap:
    'build the devops side: a k3d cluster with Argo CD, the HAProxy gateway and ' +
    'Portainer (--check probes)',
  teardown: 'remove what bootstrap made (previews without --confirm)',
};

export const isCommand = (name: string | undefined): name is CommandName =>
  name !== undefined && Object.hasOwn(USAGE, name);

const COLUMNS = 100;

/** `text` in lines of at most COLUMNS, the first after `lead`, the rest indented to match. */
function wrap(lead: string, text: string): string[] {
  const lines: string[] = [];
  let line = lead;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > COLUMNS && line.trim().length > 0) {
      lines.push(line.trimEnd());
      line = ' '.repeat(lead.length);
    }
    line += `${word} `;
  }
  return [...lines, line.trimEnd()];
}

export function helpText(): string {
  const width = Math.max(...Object.keys(USAGE).map((name) => name.length));
  return [
    'kindler — local Kubernetes environments, database first',
    '',
    'Usage: kindler <command> [arguments]    kindler help <command> shows its arguments',
    '',
    'Commands:',
    ...Object.entries(SUMMARY).flatMap(([name, summary]) =>
      wrap(`  ${name.padEnd(width)}  `, summary),
    ),
    '',
    ...wrap(
      'Exit codes: ',
      Object.entries(EXIT)
        .map(([k, v]) => `${v} ${k}`)
        .join(', '),
    ),
    'Configuration: environment variables or a .env file (docs/configuration.md). ' +
      'kindler --version.',
  ].join('\n');
}

/** One command's help: its usage (wrapped) and what it does. */
export function commandHelp(name: CommandName): string {
  return [...wrap('Usage: ', USAGE[name]), '', ...wrap('', SUMMARY[name])].join('\n');
}

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return `kindler ${pkg.version}`;
}
