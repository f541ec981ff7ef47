// Replies land in public issues: every string that leaves the process passes through here.
// Known secret values are replaced exactly; well-known token shapes are caught even when unknown.

const PATTERNS: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9_]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bptr_[A-Za-z0-9+/=_-]{16,}\b/g, // Portainer access tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs (service-account tokens)
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /((?:client-key-data|client-certificate-data|certificate-authority-data|token|password|bearerToken|edge-key|EDGE_KEY|EdgeKey)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
  /(\/\/[^/\s:@]+:)[^@\s/]+@/g, // credentials in URLs
];

export const REDACTED = '[redacted]';

export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: Iterable<string | undefined | null> = []) {
    this.secrets = [...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  }

  with(...more: (string | undefined | null)[]): Redactor {
    return new Redactor([...this.secrets, ...more]);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    for (const pattern of PATTERNS) {
      out = out.replace(pattern, (match, prefix?: unknown) =>
        typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}${REDACTED}` : REDACTED,
      );
    }
    return out;
  }
}

export const redact = (text: string, secrets: Iterable<string | undefined | null> = []): string =>
  new Redactor(secrets).redact(text);
