// Commands count only in plain text, decided by a CommonMark parser (mdast-util-from-markdown on
// micromark), not by hand: a line is plain when it belongs to a paragraph at the top of the
// comment. Indented and fenced code, block quotes (lazy continuation lines included), HTML blocks,
// headings and list items never carry commands; inside a plain line, code spans and inline HTML
// (comments) are blanked. The result has one entry per line of the body, so positions still make
// sense; lines that are not plain are empty.
import { fromMarkdown } from 'mdast-util-from-markdown';

interface Node {
  type: string;
  children?: Node[];
  position?: { start: { line: number; offset?: number }; end: { line: number; offset?: number } };
}

export function plainLines(body: string): string[] {
  const text = body.replace(/\r\n?/g, '\n');
  const paragraphs = ((fromMarkdown(text) as Node).children ?? []).filter(
    (block) => block.type === 'paragraph' && block.position,
  );
  // Offsets are UTF-16 code units, as string indices are.
  const chars = text.split('');
  for (const span of paragraphs.flatMap(inlineSpans))
    for (let i = span.start; i < span.end; i++)
      if (chars[i] !== '\n') chars[i] = span.code && i === span.start ? CODE_SPAN : ' ';
  const blanked = chars.join('').split('\n');
  const out = blanked.map(() => '');
  for (const { position } of paragraphs)
    for (let l = position!.start.line - 1; l <= position!.end.line - 1; l++) out[l] = blanked[l]!;
  return out;
}

/**
 * Where a code span stood in a plain line: a command line holding one is refused (code is never
 * an argument, and blanking it would shift the arguments after it).
 */
export const CODE_SPAN = '\u0000';

/** Code spans and inline HTML inside a paragraph, as offset ranges. */
function inlineSpans(node: Node): { start: number; end: number; code: boolean }[] {
  const spans: { start: number; end: number; code: boolean }[] = [];
  const visit = (n: Node) => {
    if ((n.type === 'inlineCode' || n.type === 'html') && n.position) {
      const start = n.position.start.offset;
      const end = n.position.end.offset;
      if (start !== undefined && end !== undefined)
        spans.push({ start, end, code: n.type === 'inlineCode' });
      return;
    }
    for (const c of n.children ?? []) visit(c);
  };
  for (const c of node.children ?? []) visit(c);
  return spans;
}
