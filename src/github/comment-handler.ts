// The comment pipeline (Atlantis's shape): parse → authorise → record → acknowledge. Nothing slow
// runs here: mutations are recorded as queued operations that the worker runs; read-only verbs
// are answered at once. Bots (this app included) are ignored; a redelivery is handled once.
import { createHash, randomUUID } from 'node:crypto';
import { authorize, batch, perform, type ActionRuntime } from '../actions/index.js';
import { sayBatch } from '../actions/say.js';
import { parseComment, type ParsedLine } from '../commands/parse.js';
import { helpText } from '../commands/usage.js';
import { commandName, isBatch, type Verb } from '../commands/verbs.js';
import {
  spell,
  Failure,
  MANAGEMENT_CLUSTER,
  classify,
  messageOf,
  type Trigger,
} from '../domain/index.js';
import { readSnapshot } from '../store/csv-snapshot.js';
import { isUnreachable, type Queryable } from '../store/db.js';
import type { LogFn } from '../system/log.js';
import { commentAnswer } from './answers.js';
import { inlineText } from './markdown.js';
import { recordDelivery, type Recorder } from './durable.js';
import type { Runtime } from '../runtime.js';
import { isConsistency, type ConsistencyRequest } from './consistency.js';
import { authorityFor, type Authority, type AuthorityDeps } from './authority.js';
import { installationKey, type GitHubClient, type RepoRef } from './types.js';
import type { Outbox } from './outbox.js';

export interface CommentEvent {
  deliveryId: string;
  /** Handed out by the durable queue (which tries it again), not received directly. */
  queued?: boolean;
  action: 'created' | 'edited';
  body: string;
  previousBody?: string | undefined;
  commentId: number;
  commentUrl: string;
  issueNumber: number;
  repo: RepoRef;
  installationId: number | null;
  sender: { login: string; type: string };
}

export interface CommentDeps extends AuthorityDeps {
  /** The engine, the store and the consistency check; never an adapter directly. */
  rt: ActionRuntime & Pick<Runtime, 'urls'>;
  /** Every write to GitHub goes through it. */
  outbox: Outbox;
  /**
   * Hands a consistency request to the durable queue (in the transaction that records the
   * delivery, when given one), to run after the webhook is answered; without it the request runs
   * inline after the commit (tests, a process without a queue).
   */
  later?: (request: ConsistencyRequest, tx?: Queryable) => Promise<void>;
  log?: LogFn;
}

const isBot = (sender: CommentEvent['sender']) =>
  sender.type === 'Bot' || sender.login.endsWith('[bot]');
const commandLines = (body: string) =>
  parseComment(body)
    .map((l) => l.line)
    .join('\n');

/** Commands read from one comment; the rest are refused in the same reply. */
export const MAX_COMMANDS_PER_COMMENT = 10;

export async function handleComment(
  event: CommentEvent,
  octokit: GitHubClient,
  deps: CommentDeps,
): Promise<void> {
  if (isBot(event.sender)) return;
  if (
    event.action === 'edited' &&
    commandLines(event.body) === commandLines(event.previousBody ?? '')
  )
    return;
  const lines = parseComment(event.body);
  if (lines.length === 0) return;
  // A comment is acted on once per version of its body, whatever the delivery id: a captured
  // delivery sent again under a new id changes nothing.
  const digest = createHash('sha256').update(event.body).digest('hex').slice(0, 32);
  const version = `comment:${event.commentId}:${digest}`;
  // Authorise before answering anything (GitHub is asked; nothing is recorded yet): a sender
  // without read permission on the config repository gets one short refusal.
  let refusal: string | null = null;
  let authority: Authority | null = null;
  try {
    authority = await authorityFor(deps, octokit, event.repo);
  } catch (error) {
    // An invalid policy file stops every command; say so once, where the command was asked.
    if (!(error instanceof Failure)) throw error;
    refusal = error.message;
  }
  if (authority) refusal = authority.accepts(event.repo);
  if (authority && !refusal && (await authority.permission(event.sender.login)) === 'none')
    refusal =
      `@${event.sender.login}, you need read permission on ` +
      `${authority.repo.owner}/${authority.repo.repo} to use \`/env\`; nothing was done.`;
  try {
    await recordDelivery(deps, [event.deliveryId, version], 'issue_comment', octokit, async (r) => {
      if (event.installationId)
        await r.store.setState(installationKey(event.repo), event.installationId);
      // Everything said to this comment goes into one reply, sent last.
      const answers: string[] = [];
      const say = (body: string) => void answers.push(body);
      if (refusal || !authority) say(refusal ?? 'nothing was done');
      else {
        await r.write(
          { kind: 'reaction', repo: event.repo, commentId: event.commentId, content: 'eyes' },
          `eyes:${version}`,
        );
        await handleLines(lines, event, deps, authority, say, r);
      }
      // Keyed by the comment's version: answered once, whoever sends it.
      if (answers.length)
        await r.write(
          {
            kind: 'comment',
            repo: event.repo,
            issueNumber: event.issueNumber,
            body: answers.join('\n\n---\n\n'),
          },
          `reply:${version}`,
        );
    });
  } catch (error) {
    // Nothing was recorded. From the queue, the delivery is tried again when the database is
    // back; received directly (the queue was unreachable too), it is answered from the snapshot.
    if (!isUnreachable(error) || event.queued) throw error;
    if (refusal)
      await deps.outbox.sendUnrecorded(
        { kind: 'comment', repo: event.repo, issueNumber: event.issueNumber, body: refusal },
        octokit,
      );
    else await answerDegraded(lines, event, octokit, deps, error);
  }
}

/** Each line in a savepoint of its own: a line that fails undoes only itself, and says why. */
async function handleLines(
  lines: ParsedLine[],
  event: CommentEvent,
  deps: CommentDeps,
  authority: Authority,
  say: (body: string) => void,
  r: Recorder,
): Promise<void> {
  let consistencyRun = false;
  for (const [index, line] of lines.entries()) {
    if (index >= MAX_COMMANDS_PER_COMMENT) {
      say(
        `Only the first ${MAX_COMMANDS_PER_COMMENT} commands of a ` +
          `comment are read; ${lines.length - MAX_COMMANDS_PER_COMMENT} ` +
          `more were not run. Split them over several comments.`,
      );
      break;
    }
    if (line.kind === 'command' && isConsistency(line.command)) {
      if (consistencyRun) {
        say(`> ${line.line}\n\nOne consistency run per comment: this one was not started.`);
        continue;
      }
      consistencyRun = true;
    }
    const said: string[] = [];
    try {
      await r.step((lr) => handleLine(line, event, deps, authority, (b) => said.push(b), lr));
      said.forEach(say);
    } catch (error) {
      // The database failing under the transaction ends it all: the delivery is tried again.
      if (isUnreachable(error)) throw error;
      const text = deps.rt.redactor.redact(messageOf(error));
      if (classify(error) === 'failure') {
        const fix = (error as Failure).fix;
        say(`> ${line.line}\n\n${text}${fix ? `\n\nNext: \`${spell(fix, 'comment')}\`` : ''}`);
      } else {
        deps.log?.('error', 'a command failed', { line: line.line, error: text });
        say(
          `> ${line.line}\n\nSomething went wrong on our side (${text}). The operation was not ` +
            `started; try again, and tell the platform team if it persists.`,
        );
      }
    }
  }
}

/**
 * The database is unreachable: list and status answer from the CSV snapshot, marked degraded;
 * everything else is refused, saying why and that nothing changed. (Without the database a
 * redelivery cannot be recognised, so it would be answered again; it still changes nothing.)
 */
async function answerDegraded(
  lines: ParsedLine[],
  event: CommentEvent,
  octokit: GitHubClient,
  deps: CommentDeps,
  cause: unknown,
): Promise<void> {
  const { rt } = deps;
  const snapshot = await readSnapshot(rt.config.csvPath).catch(() => null);
  const records = (snapshot?.records ?? []).filter((r) => r.name !== MANAGEMENT_CLUSTER);
  const note = `⚠️ **Degraded:** the database is unreachable (${messageOf(cause)}).`;
  const from = snapshot
    ? `From the CSV snapshot of ${snapshot.writtenAt?.toISOString() ?? 'an unknown time'}:`
    : 'There is no CSV snapshot to answer from.';
  const answers = lines.map((line) => {
    if (line.kind === 'reply') return `> ${line.line}\n\n${line.message}`;
    const { command } = line;
    if (command.verb === 'list' || command.verb === 'status') {
      const shown =
        command.verb === 'status' ? records.filter((r) => r.name === command.name) : records;
      if (command.verb === 'status' && shown.length === 0)
        return `> ${line.line}\n\n${from} \`${command.name}\` is not in it.`;
      const rows = shown.map(
        (r) =>
          `| ${r.name} | ${r.provider} | ${r.httpPort} | ${r.httpsPort} | ${r.subnet ?? '–'} |`,
      );
      return [
        `> ${line.line}\n\n${from}\n`,
        '| name | provider | http | https | subnet |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n');
    }
    if (command.verb === 'help') return helpText(command.topic);
    return (
      `> ${line.line}\n\nRefused: \`/env ${command.verb}\` needs the database, and ` +
      `nothing was changed. Try again when it is back; \`/env list\` and \`/env ` +
      `status\` answer from ` +
      `the snapshot meanwhile.`
    );
  });
  await deps.outbox.sendUnrecorded(
    {
      kind: 'comment',
      repo: event.repo,
      issueNumber: event.issueNumber,
      body: `${note}\n\n${answers.join('\n\n---\n\n')}`,
    },
    octokit,
  );
}

async function handleLine(
  line: ParsedLine,
  event: CommentEvent,
  deps: CommentDeps,
  authority: Authority,
  say: (b: string) => void,
  r: Recorder,
): Promise<void> {
  if (line.kind === 'reply') {
    say(`> ${line.line}\n\n${line.message}`);
    return;
  }
  const { command } = line;
  const envName = commandName(command);
  const login = event.sender.login;
  const decide = (verb: Verb) => authority.decide({ verb, envName, login });
  const decision = await authorize(command, decide, r.store);
  if (!decision.allowed) {
    say(`> ${line.line}\n\n${decision.message}`);
    return;
  }
  const trigger: Trigger = {
    source: 'issue_comment',
    actor: login,
    url: event.commentUrl,
    repo: `${event.repo.owner}/${event.repo.repo}`,
    issueNumber: event.issueNumber,
    headSha: null,
  };
  if (isConsistency(command)) {
    // Answered in a comment of its own when it ends (each repair operation gets its status
    // comment and check run in this conversation).
    const repo = trigger.repo as string;
    await r.request({
      id: randomUUID(),
      command,
      trigger: { ...trigger, repo },
      quoted: line.line,
    });
    return;
  }
  const ctx = { engine: r.engine, store: r.store, systems: deps.rt, trigger };
  if (isBatch(command)) {
    // Each environment judged by the sender's rights on it (a rule for `prod-*` holds here too).
    const judge = (verb: Verb, name: string) => authority.decide({ verb, envName: name, login });
    const outcome = await batch(command, { ...ctx, judge });
    say(`> ${line.line}\n\n${sayBatch(outcome, 'comment', (t) => inlineText(t, 300))}`);
    return;
  }
  const outcome = await perform(command, ctx);
  const answer = commentAnswer(outcome, line.line, deps.rt.urls);
  if ('report' in answer) r.report(answer.report);
  else say(answer.reply);
}
