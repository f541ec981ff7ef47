// What changed, told to every replica: NOTIFY on kindler_events, the loss of the listening
// connection, and a resync once it is back (what was said meanwhile is not replayed).
import type { Db } from './db.js';
import { StoreEvent } from './store.js';

export function storeEvents(
  db: Db,
  onEvent: (event: StoreEvent) => void,
): Promise<() => Promise<void>> {
  return db.listen(
    'kindler_events',
    (payload) => {
      try {
        const parsed = StoreEvent.safeParse(JSON.parse(payload));
        if (parsed.success) onEvent(parsed.data);
      } catch {
        // Not ours (another version's shape): nothing to announce.
      }
    },
    () => onEvent({ type: 'resync' }),
    () => onEvent({ type: 'lost' }),
  );
}
