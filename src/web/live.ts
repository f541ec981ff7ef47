// Live updates for the console: Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY
// (Store.events), so a step finished by another replica or by the CLI reaches every open page at
// once, without polling. One LISTEN connection per process, shared by every open page; at most
// `max` pages at a time and `perPrincipal` for one reader (429 beyond: one reader cannot take
// everyone's streams); a stream ends after `lifetimeMs` and the browser's EventSource reconnects
// (so a stream never outlives a revoked session by much); a comment line every 15 s keeps proxies
// from closing an idle stream.
import type http from 'node:http';
import type { Store, StoreEvent } from '../store/store.js';
import { json } from '../server/http-server.js';

interface Client {
  res: http.ServerResponse;
  /** Only this environment's events, or all. */
  env: string | null;
  /** Whose stream it is. */
  principal: string;
}

export interface LiveLimits {
  /** Streams open at once in this process. */
  max: number;
  /** Streams one reader may hold at once. */
  perPrincipal: number;
  /** How long one stream lasts before the browser is asked to reconnect. */
  lifetimeMs: number;
}

export const LIVE_LIMITS: LiveLimits = { max: 100, perPrincipal: 8, lifetimeMs: 10 * 60_000 };

export class LiveEvents {
  private readonly clients = new Set<Client>();
  private listening: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly store: Pick<Store, 'events'>,
    private readonly limits: LiveLimits = LIVE_LIMITS,
  ) {}

  /** Answers GET /kindler/api/events[?env=<name>] with a stream of events for `principal`. */
  async serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    env: string | null,
    principal: string,
  ) {
    const held = [...this.clients].filter((c) => c.principal === principal).length;
    if (held >= this.limits.perPrincipal) {
      res.setHeader('retry-after', '30');
      json(res, 429, {
        error:
          `you have ${held} live pages open already (at most ` +
          `${this.limits.perPrincipal}); close one or reload later`,
      });
      return;
    }
    if (this.clients.size >= this.limits.max) {
      json(res, 503, { error: `${this.limits.max} live pages are open already; reload later` });
      return;
    }
    try {
      await this.listen();
    } catch (error) {
      this.listening = null;
      json(res, 503, { error: `live updates are unavailable: ${(error as Error).message}` });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(': kindler live events\nretry: 2000\n\n');
    const client: Client = { res, env, principal };
    this.clients.add(client);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    // Its time is up: the browser reconnects (retry above) and is judged afresh.
    const end = setTimeout(() => res.end(), this.limits.lifetimeMs);
    end.unref();
    req.once('close', () => {
      clearInterval(ping);
      clearTimeout(end);
      this.clients.delete(client);
    });
  }

  /** Ends every stream and stops listening (the server is stopping). */
  async close(): Promise<void> {
    for (const client of this.clients) client.res.end();
    this.clients.clear();
    const stop = await this.listening?.catch(() => null);
    this.listening = null;
    await stop?.();
  }

  private listen(): Promise<() => Promise<void>> {
    this.listening ??= this.store.events((event) => this.broadcast(event));
    return this.listening;
  }

  private broadcast(event: StoreEvent): void {
    // What a page shows is told by the events that name it; these are the read cache's and the
    // sites' watcher's (server/site-watch.ts).
    if (event.type === 'changed' || event.type === 'lost' || event.type === 'sites') return;
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    // A resync is every page's business: each reads itself again.
    const env = 'env' in event ? event.env : null;
    for (const client of this.clients)
      if (client.env === null || env === null || client.env === env) client.res.write(frame);
  }
}
