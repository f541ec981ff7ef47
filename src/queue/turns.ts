// Periodic work taken in turns by every process sharing the database: each process ticks every
// `everyMs`, and a tick runs the task only when it claims the turn (nobody took it in the last
// period, kindler_state `turn:<name>`) and the task is not still running here. So among replicas
// the task runs about once a period, at any period (pg-boss's schedules go no finer than a minute).
import type { StateStore } from '../store/store.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export function everyTurn(
  store: Pick<StateStore, 'claimTurn'>,
  name: string,
  everyMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Stoppable {
  // Ticks of different processes drift apart: a turn is free a little before a whole period.
  const claimAfter = Math.max(1000, everyMs * 0.8);
  return every(
    everyMs,
    async () => {
      if (await store.claimTurn(name, claimAfter)) await task();
    },
    onError,
  );
}

/** Runs `task` every `everyMs` in this process, never two at once, until stopped. */
export function every(
  everyMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Stoppable {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= task()
      .catch(onError)
      .finally(() => (running = null));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
