// The process's one HTTP server: health endpoints, the GitHub webhook receiver and the dashboard
// are handlers tried in turn. Bound to HOST (localhost by default).
import http from 'node:http';
import type { Runtime } from '../runtime.js';

export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => Promise<boolean> | boolean;

/**
 * /healthz: the process answers. /readyz: the database answers, its migrations are current and the
 * queue's worker runs; 503 with the failing check otherwise.
 */
export function healthHandler(
  rt: Pick<Runtime, 'store' | 'redactor'>,
  queue: { running(): boolean } = { running: () => true },
): Handler {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The root leads to the dashboard (a browser opening the server's address finds it).
    if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(302, { location: '/kindler' });
      res.end();
      return true;
    }
    if (url.pathname === '/healthz') {
      json(res, 200, { ok: true });
      return true;
    }
    if (url.pathname === '/readyz') {
      const checks: Record<string, string> = {};
      try {
        await rt.store.ping();
        checks.database = 'ok';
        checks.migrations = (await rt.store.migrationsCurrent())
          ? 'ok'
          : 'pending: run `kindler migrate` or restart';
      } catch (error) {
        checks.database = `unreachable: ${rt.redactor.redact((error as Error).message)}`;
        checks.migrations = 'unknown';
      }
      checks.queue = queue.running() ? 'ok' : 'stopped';
      const ok = Object.values(checks).every((v) => v === 'ok');
      json(res, ok ? 200 : 503, { ok, checks });
      return true;
    }
    return false;
  };
}

/** `reusePort`: replicas on one host's network share the port (the kernel spreads connections). */
export function startHttpServer(
  handlers: Handler[],
  host: string,
  port: number,
  options: { reusePort?: boolean } = {},
): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    try {
      for (const handler of handlers) if (await handler(req, res)) return;
      json(res, 404, { error: `nothing at ${req.url ?? '/'}` });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      process.stderr.write(`http: ${(error as Error).message}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, reusePort: options.reusePort === true }, () => resolve(server));
  });
}

/** A small form body (sign-out, the setup page's button): at most 4 KB, the rest left unread. */
export async function readSmallBody(req: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 4_096) break;
  }
  return text.slice(0, 4_096);
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(jsonText(body));
}

/** A JSON answer's text, as every answer writes it. */
export const jsonText = (body: unknown): string => `${JSON.stringify(body, null, 2)}\n`;
