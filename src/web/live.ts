// Live updates for the console: Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY
// (Store.events), so a step finished by another replica or by the CLI reaches every open page at
// once, without polling. One LISTEN connection per process, shared by every open page; at most
// `max` pages at a time (503 beyond); a comment line every 15 s keeps proxies from closing an
// idle stream.
import type http from 'node:http';
import type { Store, StoreEvent } from '../store/store.js';
import { json } from '../server/http-server.js';

interface Client {
  res: http.ServerResponse;
  /** Only this environment's events, or all. */
  env: string | null;
}

export class LiveEvents {
  private readonly clients = new Set<Client>();
  private listening: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly store: Pick<Store, 'events'>,
    private readonly max = 100,
  ) {}

  /** Answers GET /kindler/api/events[?env=<name>] with a stream of events. */
  async serve(req: http.IncomingMessage, res: http.ServerResponse, env: string | null) {
    if (this.clients.size >= this.max) {
      json(res, 503, { error: `${this.max} live pages are open already; reload later` });
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
    const client: Client = { res, env };
    this.clients.add(client);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    req.once('close', () => {
      clearInterval(ping);
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
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const client of this.clients)
      if (client.env === null || client.env === event.env) client.res.write(frame);
  }
}
