// Where a request comes from, as this server sees it: the socket's address (a proxy in front makes
// every request look like the proxy's, which is why setup accepts a code as well as loopback).
import type http from 'node:http';

/** The peer's address, IPv4-mapped IPv6 unwrapped (`::ffff:127.0.0.1` → `127.0.0.1`). */
export function peerAddress(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** 127.0.0.0/8 or ::1: the request comes from this machine. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** A listen address that is every interface (`0.0.0.0`, `::`, or none given). */
export const isWildcardHost = (host: string): boolean => ['0.0.0.0', '::', ''].includes(host);

/** A Host header naming this machine by loopback (`localhost`, `127.x.y.z`, `[::1]`, any port). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d{1,5}$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || isLoopbackAddress(name);
}
