// A secret is redacted in every encoding it travels in: as is, URL-encoded, base64 (Basic auth
// carries base64("user:password")), and inside a URL's user-info.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { Redactor } from '../../src/domain/index.js';

describe('redaction', () => {
  const config = loadConfig({
    GIT_REPO_URL: 'https://bot:p4ss%2Fw0rd!@git.example.test/org/gitops.git',
    PORTAINER_ADMIN_PASSWORD: 'portainer-admin-pw',
  });
  const redactor = new Redactor(config.secrets);

  it('catches a Git server echoing Basic credentials, and URL-encoded passwords', () => {
    const basic = Buffer.from('bot:p4ss/w0rd!').toString('base64');
    const text = `remote: Authorization: Basic ${basic}\nfatal: https://bot:p4ss%2Fw0rd!@git.example.test refused`;
    const out = redactor.redact(text);
    expect(out).not.toContain(basic);
    expect(out).not.toContain('p4ss');
    expect(out).toBe(
      'remote: Authorization: Basic [redacted]\nfatal: https://[redacted]@git.example.test refused',
    );
  });

  it('catches base64 of a password alone and of Portainer admin credentials', () => {
    const encoded = Buffer.from('admin:portainer-admin-pw').toString('base64');
    expect(redactor.redact(`x ${encoded} y`)).toBe('x [redacted] y');
    expect(redactor.redact(Buffer.from('portainer-admin-pw').toString('base64'))).toBe(
      '[redacted]',
    );
  });

  it("removes any URL's user-info, known or not", () => {
    expect(redactor.redact('clone https://x-access-token:ghs_abc@github.com/o/r.git')).toBe(
      'clone https://[redacted]@github.com/o/r.git',
    );
  });
});

describe('messageOf', () => {
  it('says what an error-like object says, never [object Object]', async () => {
    const { messageOf } = await import('../../src/domain/index.js');
    expect(messageOf({ message: 'queue stopped', code: 'X' })).toBe('queue stopped');
    expect(messageOf({ code: 'ECONNRESET', errno: -104 })).toBe(
      '{"code":"ECONNRESET","errno":-104}',
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(messageOf(circular)).toBe('an error object with self');
    expect(messageOf(new Error('plain'))).toBe('plain');
  });
});
