// What another program or server answers is parsed at the edge, never cast: an answer of another
// shape is a clear error naming who answered and what did not fit, not a crash further in.
import { z } from 'zod';

/**
 * The answer, checked against `schema`; throws naming `who` and the first field that did not fit.
 */
export function parseAnswer<S extends z.ZodType>(
  schema: S,
  value: unknown,
  who: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw unexpectedAnswer(who, issue?.path ?? [], issue?.message ?? 'invalid');
}

/** The error for an answer that did not fit: who answered, where (a field's path), and why. */
export function unexpectedAnswer(
  who: string,
  path: readonly PropertyKey[],
  message: string,
): Error {
  const at = path.length ? ` at ${path.map(String).join('.')}` : '';
  return new Error(`${who} answered something unexpected${at}: ${message}`);
}

/** JSON text (a CLI's output), parsed and checked against `schema`. */
export function parseJsonAnswer<S extends z.ZodType>(
  schema: S,
  text: string,
  who: string,
): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      `${who} answered something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  return parseAnswer(schema, value, who);
}

/** A JSON object's `message`, when it has one (error bodies of Portainer and Kubernetes). */
export function messageField(value: unknown): string | null {
  const parsed = z.object({ message: z.string() }).safeParse(value);
  return parsed.success ? parsed.data.message : null;
}
