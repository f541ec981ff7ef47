// `kindler bootstrap` builds the devops side as upstream's bootstrap.sh does — a devops k3d
// cluster, Argo CD, the HAProxy gateway and Portainer — as an ordered list of pieces, each a
// reconcile like the lifecycle's steps: `probe` looks (never touches), `ensure` makes what is
// missing and is safe to repeat, `remove` succeeds when the piece is already gone. What a piece
// made that the bot needs (contexts, URLs, keys) goes to <data dir>/devops.env.
import type { Config } from '../config/config.js';

export type PieceName = 'devops-cluster' | 'argocd' | 'haproxy' | 'portainer';

/** What a probe found: there and answering, not there, or there but not answering (why). */
export type Probe =
  | { state: 'ok'; detail: string }
  | { state: 'missing'; detail: string }
  | { state: 'down'; detail: string };

export interface BootstrapContext {
  config: Config;
  /** The settings made so far (this run's and the earlier runs' devops.env). */
  settings: Record<string, string>;
  /**
   * Writes ctx.settings to devops.env now: a secret is saved before the write that makes it true
   * elsewhere (Portainer's administrator), so a run killed in between does not lose it.
   */
  save: () => Promise<void>;
  /** A line of progress inside a piece (waiting for…). */
  note: (line: string) => void;
  signal?: AbortSignal;
  /** The variables the user set (theirs win over what bootstrap would choose). */
  env: NodeJS.ProcessEnv;
}

export interface Piece {
  readonly name: PieceName;
  readonly title: string;
  probe(ctx: BootstrapContext): Promise<Probe>;
  /**
   * Makes what is missing (`found` is what the probe saw) and records the settings the bot needs
   * in ctx.settings, also when nothing had to be made; returns what it did.
   */
  ensure(ctx: BootstrapContext, found: Probe): Promise<string>;
  /** Removes what bootstrap made of this piece; absent is fine. */
  remove(ctx: BootstrapContext): Promise<string>;
}

/**
 * Polls `probe` every `intervalMs` until it gives a value, or fails after `timeoutMs` with `what`.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null>,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    options.signal?.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${Math.round(options.timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
