// Work that outlives a webhook's answer (check, sync, prune): tracked, so a
// shutdown can wait for it, and never an unhandled rejection.
export class Background {
  private readonly running = new Set<Promise<void>>();
  constructor(private readonly onError: (error: unknown) => void) {}

  readonly run = (task: () => Promise<void>): void => {
    const p = task()
      .catch(this.onError)
      .finally(() => this.running.delete(p));
    this.running.add(p);
  };

  async drain(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
