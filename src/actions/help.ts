// `help [verb]`: what to say is the medium's; the action only names the topic.
import type { CommandOf, Verb } from '../commands/verbs.js';

export interface HelpOutcome {
  verb: 'help';
  topic: Verb | undefined;
}

export async function help(command: CommandOf<'help'>): Promise<HelpOutcome> {
  return { verb: 'help', topic: command.topic };
}
