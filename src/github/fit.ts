// GitHub refuses a comment or issue body over 65,536 characters (422) and a check run summary over
// 65,535. Everything the bot publishes is fitted here: the head (what happened) and the end (the
// latest lines) are kept, the middle goes, and the cut says how much.

export const COMMENT_LIMIT = 65_536;

/** Keeps the start and the end of `text` within `max` characters, saying what was cut. */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (n: number) => `\n… (${n} characters cut) …\n`;
  const room = max - note(text.length).length;
  if (room <= 0) return text.slice(0, max);
  const head = Math.ceil(room / 2);
  const tail = room - head;
  return `${text.slice(0, head)}${note(text.length - room)}${tail > 0 ? text.slice(-tail) : ''}`;
}

/** A body GitHub accepts: unchanged when it fits. */
export function fitBody(body: string, limit = COMMENT_LIMIT): string {
  return clipMiddle(body, limit);
}
