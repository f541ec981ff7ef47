// The list's JSON written an item at a time is, byte for byte, what JSON.stringify writes whole.
import { describe, expect, it } from 'vitest';
import { jsonArrayWriter } from '../../src/cli/format.js';

const streamed = (head: Record<string, unknown>, key: string, items: unknown[]): string => {
  let text = '';
  const writer = jsonArrayWriter((t) => (text += t), head, key);
  for (const item of items) writer.item(item);
  writer.end();
  return text;
};

describe('jsonArrayWriter', () => {
  const cases: [string, Record<string, unknown>, unknown[]][] = [
    ['no items', { degraded: false }, []],
    ['one item', { degraded: false }, [{ name: 'dev', health: null }]],
    [
      'nested items with strings that look like JSON',
      { degraded: false, note: 'a "quoted"\n}' },
      [
        { name: 'a', labels: { team: 'x' }, ports: [1, 2], at: new Date(0) },
        { name: 'b', labels: {}, ports: [], health: { health: 'healthy', apps: [{ n: 1 }] } },
        'plain',
        null,
      ],
    ],
    ['an empty head', {}, [1, [2, [3]]]],
  ];
  it.each(cases)('%s', (_label, head, items) => {
    const whole = `${JSON.stringify({ ...head, environments: items }, null, 2)}\n`;
    expect(streamed(head, 'environments', items)).toBe(whole);
  });
});
