// How the console answers: an HTML page with its security headers, a refused reader in the form
// the path expects, and whose live streams these are.
import type http from 'node:http';
import { peerAddress } from '../server/peer.js';
import type { Degradation } from './data.js';
import { html } from './html.js';
import { page } from './layout.js';
import { refuse, type Principal, type Refusal } from './principals.js';

export const degradation = (r: { degraded: boolean }): Degradation | null =>
  r.degraded ? (r as Degradation) : null;

export function sendHtml(res: http.ServerResponse, status: number, body: string): true {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src 'self'; " +
        "connect-src 'self'",
    })
    .end(body);
  return true;
}

/** A refused reader: JSON under the API and /metrics, a page elsewhere. */
export function answerRefusal(res: http.ServerResponse, path: string, refusal: Refusal): true {
  if (refusal.status === 401) res.setHeader('www-authenticate', 'Bearer realm="kindler"');
  if (path.startsWith('/kindler/api/') || path === '/metrics') {
    refuse(res, refusal);
    return true;
  }
  if (refusal.retryAfter) res.setHeader('retry-after', String(refusal.retryAfter));
  const body = html`<h2>Not shown</h2>
    <div class="notice error" role="alert">${refusal.error}</div>`;
  return sendHtml(res, refusal.status, page('kindler', body));
}

/** Whose live streams these are: the operator, a GitHub user, or an anonymous address. */
export function principalKey(req: http.IncomingMessage, principal: Principal | null): string {
  return principal ? `${principal.via}:${principal.login}` : `address:${peerAddress(req)}`;
}
