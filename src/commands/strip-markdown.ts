// Commands count only in plain text: fenced code blocks, inline code, block quotes and HTML
// comments are blanked first (lines are kept, so positions still make sense).

export function plainLines(body: string): string[] {
  const text = body
    .replace(/\r\n?/g, '\n')
    .replace(/<!--[\s\S]*?(-->|$)/g, (m) => m.replace(/[^\n]/g, ' '));
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (
        marker &&
        marker[0] === fence[0] &&
        marker.length >= fence.length &&
        line.trim() === marker
      )
        fence = null;
      out.push('');
      continue;
    }
    if (marker) {
      fence = marker;
      out.push('');
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      out.push('');
      continue;
    }
    out.push(line.replace(/(`+)[\s\S]*?\1/g, (m) => ' '.repeat(m.length)));
  }
  return out;
}
