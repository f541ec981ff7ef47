// What the bot writes to GitHub is redacted first and then fitted to GitHub's size limits, so a
// secret is never published and a long log never gets a write refused.
import type { Redactor } from '../domain/index.js';
import { COMMENT_LIMIT, fitBody } from '../render/fit.js';

export function publishable(
  rt: { redactor: Redactor },
  body: string,
  limit = COMMENT_LIMIT,
): string {
  return fitBody(rt.redactor.redact(body), limit);
}
