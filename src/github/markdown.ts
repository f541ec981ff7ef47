// Untrusted text (a CLI's stderr, an API's error, a log) in Markdown that the bot publishes: it
// must stay text. Inline, Markdown's punctuation is escaped and @mentions are broken, so nothing
// becomes a link, an image, HTML or a notification; in a block, the fence is longer than any run
// of backticks inside, so the text cannot close it.
import { clipMiddle } from './fit.js';

const ACTIVE = /[\\`*_[\]<>#|~!]/g;

/** Text for a Markdown line or table cell: escaped, one line, mentions neutralised. */
export function inlineText(text: string, max = Infinity): string {
  return clipMiddle(text, max)
    .replace(/\r?\n/g, ' ')
    .replace(ACTIVE, (c) => `\\${c}`)
    .replace(/@(?=[A-Za-z0-9])/g, '@\u200b');
}

/** A fenced code block holding `text` verbatim, whatever backticks it contains. */
export function fencedBlock(text: string): string[] {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, text, fence];
}
