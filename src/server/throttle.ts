// Wrong credentials are counted per address: past `max` in a window the address is answered 429
// (with Retry-After) without the credential being looked at, so guessing the dashboard token or
// spraying user tokens at GitHub through us costs the guesser time, not us. The map is bounded:
// the oldest address is forgotten first.
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly keep = 10_000,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  blocked(address: string): number {
    const seen = this.failures.get(address);
    if (!seen) return 0;
    const left = seen.since + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return seen.count >= this.max ? Math.ceil(left / 1000) : 0;
  }

  /** One more wrong credential from `address`. */
  fail(address: string): void {
    const seen = this.failures.get(address);
    if (seen && this.now() - seen.since < this.windowMs) {
      seen.count++;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= this.keep) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, since: this.now() });
  }
}
