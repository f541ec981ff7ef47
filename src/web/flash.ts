// What a form's answer says, carried across the redirect that follows every POST (post, redirect,
// get: a reload never sends the form again): a notice and the values typed, in a short-lived
// HttpOnly cookie that the page it lands on reads once and clears.
import type http from 'node:http';
import { cookie } from './sessions.js';

export interface Flash {
  text: string;
  error: boolean;
  /** What the form held, given back to it (a refused create keeps its name, provider, ...). */
  values?: Record<string, string>;
}

const FLASH_COOKIE = 'kindler_flash';
const KEPT_FIELDS = ['name', 'provider', 'ttl', 'duration', 'portainer', 'haproxy'];

/** The Set-Cookie value that carries `flash` to the next page (a minute at most). */
export function flashCookie(flash: Flash): string {
  const values = Object.fromEntries(
    Object.entries(flash.values ?? {})
      .filter(([key]) => KEPT_FIELDS.includes(key))
      .map(([key, value]) => [key, value.slice(0, 100)]),
  );
  const kept = { text: flash.text.slice(0, 1_000), error: flash.error, values };
  const encoded = Buffer.from(JSON.stringify(kept)).toString('base64url');
  return `${FLASH_COOKIE}=${encoded}; Path=/kindler; HttpOnly; SameSite=Lax; Max-Age=60`;
}

/** The flash this request carries, if any, and the Set-Cookie value that clears it. */
export function takeFlash(req: http.IncomingMessage): {
  flash: Flash | null;
  clear: string | null;
} {
  const raw = cookie(req, FLASH_COOKIE);
  if (raw === null) return { flash: null, clear: null };
  const clear = `${FLASH_COOKIE}=; Path=/kindler; HttpOnly; SameSite=Lax; Max-Age=0`;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
    if (typeof value.text !== 'string' || typeof value.error !== 'boolean') throw new Error();
    const values: Record<string, string> = {};
    for (const [key, v] of Object.entries(value.values ?? {}))
      if (KEPT_FIELDS.includes(key) && typeof v === 'string') values[key] = v;
    return { flash: { text: value.text, error: value.error, values }, clear };
  } catch {
    return { flash: null, clear };
  }
}
