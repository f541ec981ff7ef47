// Help text as Markdown for a comment, and the one-line usage shown with a refusal.
import { SPECS, VERBS, usageLine, type Verb } from './verbs.js';

export function helpText(topic?: Verb): string {
  if (topic) return `\`${usageLine(topic)}\` — ${SPECS[topic].summary}`;
  const rows = VERBS.map((v) => `| \`${usageLine(v)}\` | ${SPECS[v].summary} |`);
  return [
    '**kindler-bot commands** — one per line, several per comment:',
    '',
    '| command | does |',
    '|---|---|',
    ...rows,
    '',
    'Names are DNS labels (lower-case letters, digits and `-`, at most 63 characters), never ' +
      '`main`, `master`, `develop`, `release` or `devops`. The provider defaults to `k3d`.',
  ].join('\n');
}

export const usageHint = (verb: Verb): string => `Usage: \`${usageLine(verb)}\``;
