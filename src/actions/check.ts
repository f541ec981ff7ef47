// `check`: the database compared with Git, clusters, Portainer, Argo CD and HAProxy. Read-only; a
// check asked while one runs, or just after, shares its report.
import { sharedCheck } from '../consistency/shared-check.js';
import type { ConsistencyReport } from '../consistency/compare.js';
import type { ActionContext } from './context.js';

export interface CheckOutcome {
  verb: 'check';
  report: ConsistencyReport;
}

export async function check(
  _command: unknown,
  ctx: Pick<ActionContext, 'systems'>,
): Promise<CheckOutcome> {
  return { verb: 'check', report: await sharedCheck(ctx.systems).get() };
}
