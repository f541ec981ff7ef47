// The audit filter's `since` as a person types it: a duration back from now, or an ISO 8601 date
// or time read as UTC unless it gives an offset — never a guess (Date.parse took "7" for July
// 2001) and never the server's local time.
import { describe, expect, it } from 'vitest';
import { auditQuery, isoTime } from '../../src/commands/audit-filter.js';

const now = new Date('2026-12-03T12:00:00.000Z');
const since = (text: string) => {
  const q = auditQuery({ since: text }, now);
  return 'error' in q ? q.error : q.since?.toISOString();
};

describe('audit since', () => {
  it('reads a duration back from now', () => {
    expect(since('90m')).toBe('2026-12-03T10:30:00.000Z');
    expect(since('7d')).toBe('2026-11-26T12:00:00.000Z');
  });

  it('reads ISO dates and times as UTC unless they give an offset', () => {
    expect(since('2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    expect(since('2026-12-01T10:00')).toBe('2026-12-01T10:00:00.000Z');
    expect(since('2026-12-01 10:00:30')).toBe('2026-12-01T10:00:30.000Z');
    expect(since('2026-12-01T10:00:30.25Z')).toBe('2026-12-01T10:00:30.250Z');
    expect(since('2026-12-01T10:00+09:00')).toBe('2026-12-01T01:00:00.000Z');
    expect(since('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('refuses what is neither, with what it takes', () => {
    for (const text of ['7', '12', 'yesterday 5', 'foo 2026', 'Dec 1 2026', 'never', '400d'])
      expect(since(text)).toBe(
        'since is a duration back from now (90m, 24h, 7d) or an ISO time (2026-12-01, ' +
          '2026-12-01T10:00Z; UTC unless it gives an offset)',
      );
  });

  it('refuses a day or an hour that does not exist rather than rolling it over', () => {
    for (const text of [
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '2026-12-01T24:00',
      '2026-12-01T23:60',
    ])
      expect(isoTime(text)).toBeNull();
  });

  it('reads the same under any time zone of the process', () => {
    const zone = process.env.TZ;
    // Node reads TZ again when it is set: a local reading would put 10:00 in Tokyo at 01:00Z.
    process.env.TZ = 'Asia/Tokyo';
    try {
      expect(new Date(2026, 11, 1, 10).toISOString()).toBe('2026-12-01T01:00:00.000Z');
      expect(since('2026-12-01T10:00')).toBe('2026-12-01T10:00:00.000Z');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
