// Splits a configured command line (HAPROXY_RELOAD_COMMAND) into argv without a shell: words,
// 'single' and "double" quotes, backslash escapes. Pipes and redirections are not supported.

export function splitArgv(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(word);
      word = '';
      started = false;
    } else {
      if ('|&;<>'.includes(c))
        throw new Error(
          `"${c}" needs a shell, which kindler never uses; put the pipeline in a script ` +
            `and name the script`,
        );
      word += c;
      started = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command line`);
  if (started) out.push(word);
  return out;
}
