// The process's logger: JSON lines with the secrets taken out, bounded whatever is handed to it,
// readable lines when asked for.
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/domain/index.js';
import { createLogger } from '../../src/system/log.js';

const SECRET = 'log-secret-0123456789';
const capture = () => {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
};

describe('the logger', () => {
  it('writes one JSON object per line, with no secret in any encoding it knows', () => {
    const { lines, stream } = capture();
    const log = createLogger(
      { LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      new Redactor([SECRET]),
      stream,
    );
    log
      .child({ operation: 7, env: 'dev' })
      .warn(
        { url: `https://bot:${SECRET}@git.example.test/x.git`, token: SECRET },
        `push failed with ${SECRET}`,
      );
    log.debug('not at this level');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ name: 'kindler', operation: 7, env: 'dev', level: 40 });
    expect(lines[0]).not.toContain(SECRET);
    expect(line.msg).toContain('push failed with');
  });

  it('stays bounded and keeps logging after a 1,000-level object', () => {
    const { lines, stream } = capture();
    const log = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, new Redactor([]), stream);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    log.error({ event: deep }, 'hostile');
    log.info('after');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBeLessThan(2_000);
    expect(JSON.parse(lines[1]!).msg).toBe('after');
  });

  it('writes readable lines with LOG_FORMAT=pretty', () => {
    const { lines, stream } = capture();
    const log = createLogger(
      { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' },
      new Redactor([SECRET]),
      stream,
    );
    log.info({ operation: 3 }, `operation success ${SECRET}`);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO operation success \[redacted\] \{"operation":3\}\n$/,
    );
  });
});
