// The memory a webhook body may hold before its signature can be checked, kept so strangers cannot
// spend it. A body's declared length is reserved before a byte is read, from one of two lanes:
// small bodies (GitHub's usual deliveries, at most `smallBody`) have a lane of their own, so large
// ones can never crowd them out; each lane is bounded globally and per source address. A body
// must keep arriving: nothing for `idleMs`, or slower than `minRate` on the whole, and it is cut.
import type http from 'node:http';

export interface WebhookLimits {
  /** Largest body taken at all (GitHub caps payloads at 25 MB). */
  maxBody: number;
  /** Bodies up to this many bytes use the small lane. */
  smallBody: number;
  /** Bytes reserved at once, per lane, by all requests together. */
  lanes: { small: number; large: number };
  /** Bytes one source address may reserve at once, per lane. */
  perAddress: { small: number; large: number };
  /** A body that sends nothing for this long is cut (408). */
  idleMs: number;
  /** Bytes per second a body must average: it gets idleMs + length / minRate to arrive. */
  minRate: number;
}

const MB = 1024 * 1024;
export const WEBHOOK_LIMITS: WebhookLimits = {
  maxBody: 25 * MB,
  smallBody: 1 * MB,
  lanes: { small: 16 * MB, large: 64 * MB },
  perAddress: { small: 4 * MB, large: 26 * MB },
  idleMs: 10_000,
  minRate: 256 * 1024,
};

type Lane = 'small' | 'large';

export class BodyBudget {
  private readonly held: Record<Lane, number> = { small: 0, large: 0 };
  private readonly byAddress = new Map<string, Record<Lane, number>>();

  constructor(readonly limits: WebhookLimits = WEBHOOK_LIMITS) {}

  /** Reserves `bytes` for `address`: the release, or why not now. */
  reserve(address: string, bytes: number): { release: () => void } | { refused: string } {
    const lane: Lane = bytes <= this.limits.smallBody ? 'small' : 'large';
    const mine = this.byAddress.get(address) ?? { small: 0, large: 0 };
    if (mine[lane] + bytes > this.limits.perAddress[lane])
      return { refused: 'busy: this address has too many deliveries in flight; try again' };
    if (this.held[lane] + bytes > this.limits.lanes[lane])
      return { refused: 'busy: too many large deliveries at once; try again' };
    mine[lane] += bytes;
    this.held[lane] += bytes;
    this.byAddress.set(address, mine);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        mine[lane] -= bytes;
        this.held[lane] -= bytes;
        if (mine.small === 0 && mine.large === 0) this.byAddress.delete(address);
      },
    };
  }

  /** The body, or 'slow' when it stopped arriving in time, or 'gone' when the client left. */
  read(req: http.IncomingMessage, declared: number): Promise<Buffer | 'slow' | 'gone'> {
    const { idleMs, minRate } = this.limits;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const finish = (result: Buffer | 'slow' | 'gone') => {
        clearTimeout(idle);
        clearTimeout(deadline);
        req.off('data', onData).off('end', onEnd).off('close', onClose);
        resolve(result);
      };
      const idle = setTimeout(() => finish('slow'), idleMs);
      const deadline = setTimeout(
        () => finish('slow'),
        idleMs + Math.ceil((declared / minRate) * 1000),
      );
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        idle.refresh();
      };
      const onEnd = () => finish(Buffer.concat(chunks));
      const onClose = () => finish(req.complete ? Buffer.concat(chunks) : 'gone');
      req.on('data', onData).once('end', onEnd).once('close', onClose);
    });
  }
}
