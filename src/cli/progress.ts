// Live step progress. On a terminal the step list is redrawn in place; otherwise each change is
// one plain line, so logs and CI output stay readable.
import type { Operation } from '../domain/index.js';
import type { OperationObserver } from '../lifecycle/engine-api.js';
import { stepLine } from './format.js';

export function progressPrinter(stream: {
  write(text: string): unknown;
  isTTY?: boolean;
}): OperationObserver {
  const seen = new Map<string, string>();
  let drawn = 0;
  return {
    onUpdate(op: Operation) {
      if (stream.isTTY) {
        const lines = op.steps.map(stepLine);
        if (drawn > 0) stream.write(`\x1b[${drawn}A`);
        stream.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
        drawn = lines.length;
        return;
      }
      for (const step of op.steps) {
        const key = `${step.status}`;
        if (seen.get(step.step) === key || step.status === 'pending') continue;
        seen.set(step.step, key);
        stream.write(`${stepLine(step)}\n`);
      }
    },
  };
}
