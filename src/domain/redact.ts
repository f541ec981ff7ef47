// Replies land in public issues: every string that leaves the process passes through here.
// Known secret values are replaced exactly; well-known token shapes are caught even when unknown.

const SECRET_KEYS = [
  'client-key-data',
  'client-certificate-data',
  'certificate-authority-data',
  'token',
  'password',
  'bearerToken',
  'edge-key',
  'EDGE_KEY',
  'EdgeKey',
];

const PATTERNS: RegExp[] = [
  /(\/\/)[^/\s@]+(?=@)/g, // user-info in URLs (user:password@, token@), before key=value shapes
  /\bgh[pousr]_[A-Za-z0-9_]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bptr_[A-Za-z0-9+/=_-]{16,}\b/g, // Portainer access tokens
  // JWTs (service-account tokens)
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  // key: value and key=value shapes whose key names a secret
  new RegExp(`((?:${SECRET_KEYS.join('|')})["']?\\s*[:=]\\s*["']?)[^\\s"',}]+`, 'gi'),
];

export const REDACTED = '[redacted]';

export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: Iterable<string | undefined | null> = []) {
    const known = [...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 4);
    // A secret travels in other clothes too: URL-encoded, and base64 (Basic auth is
    // base64("user:password"); callers add such pairs as secrets of their own).
    const encodings = known.flatMap((s) => [
      encodeURIComponent(s),
      Buffer.from(s).toString('base64'),
      Buffer.from(s).toString('base64').replace(/=+$/, ''),
      Buffer.from(s).toString('base64url'),
    ]);
    // Longest first, so a secret inside another is not half replaced.
    this.secrets = [...new Set([...known, ...encodings])]
      .filter((s) => s.length >= 4)
      .sort((a, b) => b.length - a.length);
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
