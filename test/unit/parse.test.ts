import { describe, expect, it } from 'vitest';
import { parseComment, parseCommentResult } from '../../src/commands/parse.js';

const one = (body: string) => {
  const lines = parseComment(body);
  expect(lines).toHaveLength(1);
  return lines[0]!;
};
const command = (body: string) => {
  const line = one(body);
  if (line.kind !== 'command') throw new Error(`expected a command, got: ${line.message}`);
  return line.command;
};
const reply = (body: string) => {
  const line = one(body);
  if (line.kind !== 'reply')
    throw new Error(`expected a reply, got ${JSON.stringify(line.command)}`);
  return line.message;
};

describe('accepted commands', () => {
  it.each([
    [
      '/env create dev',
      { verb: 'create', name: 'dev', provider: 'k3d', registerPortainer: true, haproxyRoute: true },
    ],
    [
      '/env create dev kind',
      {
        verb: 'create',
        name: 'dev',
        provider: 'kind',
        registerPortainer: true,
        haproxyRoute: true,
      },
    ],
    [
      '/env create dev --provider kind',
      {
        verb: 'create',
        name: 'dev',
        provider: 'kind',
        registerPortainer: true,
        haproxyRoute: true,
      },
    ],
    [
      '/env create dev k3d --provider=k3d',
      { verb: 'create', name: 'dev', provider: 'k3d', registerPortainer: true, haproxyRoute: true },
    ],
    [
      '/env create pr-12 --ttl 3d --no-portainer',
      {
        verb: 'create',
        name: 'pr-12',
        provider: 'k3d',
        registerPortainer: false,
        haproxyRoute: true,
        ttlMs: 3 * 86_400_000,
      },
    ],
    [
      '/env create dev --ttl never --no-haproxy',
      {
        verb: 'create',
        name: 'dev',
        provider: 'k3d',
        registerPortainer: true,
        haproxyRoute: false,
        ttlMs: null,
      },
    ],
    ['/env delete dev-a', { verb: 'delete', name: 'dev-a' }],
    ['/env list', { verb: 'list' }],
    ['/env status uat', { verb: 'status', name: 'uat' }],
    ['/env check', { verb: 'check' }],
    ['/env sync', { verb: 'sync' }],
    ['/env sync dev uat', { verb: 'sync', names: ['dev', 'uat'] }],
    ['/env prune', { verb: 'prune', confirm: null }],
    ['/env prune old-one', { verb: 'prune', confirm: null, names: ['old-one'] }],
    ['/env prune --confirm 3f9a1c2e', { verb: 'prune', confirm: '3f9a1c2e' }],
    ['/env prune --confirm=3f9a1c2e', { verb: 'prune', confirm: '3f9a1c2e' }],
    ['/env extend dev never', { verb: 'extend', name: 'dev', durationMs: null }],
    ['/env retry dev', { verb: 'retry', name: 'dev' }],
    ['/env cancel dev', { verb: 'cancel', name: 'dev' }],
    ['/env extend dev', { verb: 'extend', name: 'dev', durationMs: 86_400_000 }],
    ['/env extend dev 90m', { verb: 'extend', name: 'dev', durationMs: 5_400_000 }],
    ['/env help', { verb: 'help' }],
    ['/env help create', { verb: 'help', topic: 'create' }],
    ['/env', { verb: 'help' }],
    ['   /env   list   ', { verb: 'list' }],
    // The longest k3d accepts (k3d's own limit is 32 characters); see name-limits.test.ts.
    [
      `/env create ${'a'.repeat(32)}`,
      {
        verb: 'create',
        name: 'a'.repeat(32),
        provider: 'k3d',
        registerPortainer: true,
        haproxyRoute: true,
      },
    ],
  ])('%s', (body, expected) => {
    expect(command(body)).toEqual(expected);
  });
});

describe('refusals say exactly what is wrong', () => {
  it.each([
    [
      '/env creat dev',
      '`creat` is not a command. Did you mean `/env create`? Send `/env help` for the list.',
    ],
    ['/env destroy dev', '`destroy` is not a command. Send `/env help` for the list.'],
    [
      '/env stats dev',
      '`stats` is not a command. Did you mean `/env status`? Send `/env help` for the list.',
    ],
    [
      '/env create',
      '`/env create` needs an environment name. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create Dev',
      '"Dev" has upper-case letters; use lower case ("dev"). Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create main',
      '"main" is reserved (main, master, develop, release, devops) and is never an environment. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env delete devops',
      '"devops" is reserved (main, master, develop, release, devops) and is never an environment. Usage: `/env delete <name> | --label key=value… | --confirm <batch> | --cancel <batch>`',
    ],
    [
      `/env create ${'a'.repeat(64)}`,
      `"${'a'.repeat(64)}" is 64 characters long; the limit is 63. Usage: \`/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]\``,
    ],
    [
      '/env create -dev',
      '"-dev" is not a valid name: it must start and end with a letter or digit (a DNS label, 1–63 characters). Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev_1',
      '"dev_1" is not a valid name: it may contain only lower-case letters, digits and "-" (a DNS label, 1–63 characters). Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create archive/dev',
      '"archive/dev" is under archive/, which holds archived branches. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev docker',
      'Provider `docker` is not supported; use `k3d` or `kind`. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev kind --provider k3d',
      'Two different providers given (`kind` and `k3d`); give one. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev --provder kind',
      '`--provder` is not an option of `/env create`. Did you mean `--provider`? Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev --ttl',
      '`--ttl` needs a value. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev --ttl soon',
      '"soon" is not a duration; use e.g. 90m, 24h, 3d, 2w or never. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    [
      '/env create dev k3d extra',
      'Unexpected `extra`. Usage: `/env create <name> [k3d|kind] [--ttl 24h|never] [--no-portainer] [--no-haproxy] [--servers N] [--agents N] [--cpus N] [--memory 2g] [--label key=value]… [--site <site> | --where key=value…]`',
    ],
    ['/env list all', 'Unexpected `all`. Usage: `/env list [--label key=value]…`'],
    [
      '/env prune --confirm',
      '`--confirm` needs a value. Usage: `/env prune [name…] [--confirm <preview>]`',
    ],
    [
      '/env prune dev --confirm 3f9a1c2e',
      'A confirmation carries out its preview as it was: give no names. Usage: `/env prune [name…] [--confirm <preview>]`',
    ],
    [
      '/env extend dev soon',
      '"soon" is not a duration; use e.g. 90m, 24h, 3d, 2w or never. Usage: `/env extend <name> [duration|never] | --label key=value… [duration|never] | --confirm <batch> | --cancel <batch>`',
    ],
    [
      '/env delete web --label team=a',
      "Give an environment's name or `--label`, not both (`web`). Usage: `/env delete <name> | --label key=value… | --confirm <batch> | --cancel <batch>`",
    ],
    [
      '/env stop --label team',
      'Label "team" must be key=value. Usage: `/env stop <name> | --label key=value… | --confirm <batch> | --cancel <batch>`',
    ],
    [
      '/env delete --confirm 3f9a1c2e --label team=a',
      'A confirmation carries out its preview as it was: give nothing else. Usage: `/env delete <name> | --label key=value… | --confirm <batch> | --cancel <batch>`',
    ],
    [
      '/env start --confirm nope',
      "`nope` is not a batch id (the preview's 8 hex digits). Usage: `/env start <name> | --label key=value… | --confirm <batch> | --cancel <batch>`",
    ],
    [
      '/env extend --label team=a soon',
      '"soon" is not a duration; use e.g. 90m, 24h, 3d, 2w or never. Usage: `/env extend <name> [duration|never] | --label key=value… [duration|never] | --confirm <batch> | --cancel <batch>`',
    ],
    ['/env help nope', 'There is no command `nope`. Usage: `/env help [verb]`'],
  ])('%s', (body, message) => {
    expect(reply(body)).toBe(message);
  });
});

describe('what is not a command', () => {
  it.each([
    ['plain text', 'please create an environment'],
    ['a prefix of another word', '/environment create dev'],
    ['mid-line', 'run /env create dev please'],
    ['a fenced block', 'Try this:\n```\n/env create dev\n```'],
    ['a tilde fence', '~~~sh\n/env delete dev\n~~~'],
    ['inline code', 'use `/env create dev` to start'],
    ['a quote', '> /env delete prod\nno thanks'],
    ['an HTML comment', '<!-- /env delete prod -->'],
    ['a multi-line HTML comment', '<!--\n/env delete prod\n-->'],
  ])('%s', (_what, body) => {
    expect(parseComment(body)).toEqual([]);
    expect(parseCommentResult(body)).toEqual({ kind: 'ignore' });
  });

  it('handles several commands per comment, each on its own line, with CRLF', () => {
    const lines = parseComment(
      'Setting up:\r\n/env create a\r\n/env create b kind\r\n```\n/env delete c\n```\n/env nope\n/env status a',
    );
    expect(lines.map((l) => (l.kind === 'command' ? `${l.command.verb}` : 'reply'))).toEqual([
      'create',
      'create',
      'reply',
      'status',
    ]);
    expect(lines[1]).toMatchObject({ kind: 'command', line: '/env create b kind' });
  });

  it('an unclosed fence hides the rest of the comment', () => {
    expect(parseComment('```\n/env create dev')).toEqual([]);
  });
});

describe('a batch: the environments a label selects', () => {
  it.each([
    ['/env delete --label team=a', { verb: 'delete', batch: { labels: { team: 'a' } } }],
    [
      '/env stop --label team=a --label tier=dev',
      { verb: 'stop', batch: { labels: { team: 'a', tier: 'dev' } } },
    ],
    ['/env start --label=team=a', { verb: 'start', batch: { labels: { team: 'a' } } }],
    ['/env sync --label team=a', { verb: 'sync', batch: { labels: { team: 'a' } } }],
    [
      '/env extend --label team=a 3d',
      { verb: 'extend', batch: { labels: { team: 'a' }, durationMs: 3 * 86_400_000 } },
    ],
    [
      '/env extend --label team=a',
      { verb: 'extend', batch: { labels: { team: 'a' }, durationMs: 86_400_000 } },
    ],
    [
      '/env extend --label team=a never',
      { verb: 'extend', batch: { labels: { team: 'a' }, durationMs: null } },
    ],
    ['/env delete --confirm 3f9a1c2e', { verb: 'delete', batch: { confirm: '3f9a1c2e' } }],
  ])('%s', (body, command) => {
    expect(parseComment(body)).toEqual([{ kind: 'command', command, line: body }]);
  });

  it('leaves the one-name forms as they were', () => {
    expect(parseComment('/env delete web')).toEqual([
      { kind: 'command', command: { verb: 'delete', name: 'web' }, line: '/env delete web' },
    ]);
    expect(parseComment('/env sync web')).toEqual([
      { kind: 'command', command: { verb: 'sync', names: ['web'] }, line: '/env sync web' },
    ]);
  });
});
