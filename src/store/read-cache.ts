// What the console read of the database, kept until the database says it changed: every write to a
// table the console reads is announced on kindler_events (`changed`, at its commit, to every
// process: a replica, the CLI), and each announcement forgets everything read before it. Nothing
// is kept while the announcements cannot be heard (before the first LISTEN answers, after it was
// lost until it is back), nor a read that an announcement overtook (begun before it, ended after):
// a page is never older than the last commit this process was told of. Bounded in entries; the
// least recently read goes first. The live pages hear the announcements through it (one LISTEN
// connection), each after the cache forgot what it made old.
import type { Store, StoreEvent } from './store.js';

export class ReadCache {
  /** Counts the announcements heard: an entry is good while it is the one it was read under. */
  private generation = 0;
  private hearing = false;
  private readonly entries = new Map<string, { generation: number; value: unknown }>();
  /** Who else hears the announcements through this one connection (the live pages). */
  private readonly hearers = new Set<(event: StoreEvent) => void>();
  private stop: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly store: Pick<Store, 'events'>,
    private readonly maxEntries = 256,
  ) {}

  /** Starts hearing the announcements (once); until it does, nothing is kept. */
  async listen(): Promise<void> {
    this.stop ??= this.store
      .events((event) => this.heard(event))
      .then(
        (stop) => {
          this.hearing = true;
          return stop;
        },
        () => {
          // Not heard: read every time, and try again on the next read.
          this.stop = null;
          return async () => undefined;
        },
      );
    await this.stop;
  }

  /** What `read` answers under `key`: kept from before when nothing changed since. */
  async get<T>(key: string, read: () => Promise<T>, keep: (value: T) => boolean = () => true) {
    void this.listen();
    const kept = this.entries.get(key);
    if (this.hearing && kept?.generation === this.generation) {
      // Most recently used last: the oldest is the first to go.
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept.value as T;
    }
    const generation = this.generation;
    const value = await read();
    if (this.hearing && generation === this.generation && keep(value)) {
      this.entries.delete(key);
      this.entries.set(key, { generation, value });
      if (this.entries.size > this.maxEntries)
        this.entries.delete(this.entries.keys().next().value!);
    }
    return value;
  }

  /**
   * The announcements, each told after the cache forgot what it made old (a page that reads
   * itself again on one is never answered from before it): Store.events through one connection.
   */
  async events(onEvent: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    await this.listen();
    if (!this.hearing) throw new Error('the database cannot be listened to');
    this.hearers.add(onEvent);
    return async () => void this.hearers.delete(onEvent);
  }

  async close(): Promise<void> {
    this.hearers.clear();
    this.hearing = false;
    const stop = await this.stop;
    this.stop = null;
    await stop?.();
  }

  private heard(event: StoreEvent): void {
    // Every announcement may change something read; a loss means none can be heard until the
    // resync, which itself says what was missed may have changed anything.
    this.generation += 1;
    this.entries.clear();
    if (event.type === 'lost') this.hearing = false;
    else if (event.type === 'resync') this.hearing = true;
    for (const hear of this.hearers) hear(event);
  }
}
