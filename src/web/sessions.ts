// Signed-in browsers. A session is a random value in an HttpOnly cookie (SameSite=Lax, Secure
// when the console is served over HTTPS); the database keeps only its hash, who it is and the
// CSRF token every change from that browser must carry, so sessions survive restarts, are shared
// by replicas and end for all of them at sign-out. Sign-in is GitHub's OAuth web flow of the
// GitHub App itself (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET; GitHub Enterprise honoured), or, for
// local use, a visit with KINDLER_DASHBOARD_TOKEN.
import crypto from 'node:crypto';
import type http from 'node:http';
import type { ConsoleSession, Store } from '../store/store.js';

export const SESSION_COOKIE = 'kindler_session';
const STATE_COOKIE = 'kindler_oauth_state';
/** How long a sign-in lasts. */
const SESSION_MS = 12 * 3_600_000;

const hash = (value: string) => crypto.createHash('sha256').update(value).digest('hex');
const random = () => crypto.randomBytes(32).toString('base64url');

export function cookie(req: http.IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

export function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export class Sessions {
  constructor(
    private readonly store: Pick<Store, 'createSession' | 'getSession' | 'deleteSession'>,
    /** Cookies carry Secure when the console is reached over HTTPS (KINDLER_PUBLIC_URL). */
    private readonly secure: boolean,
  ) {}

  /** Starts a session for `login` and returns the Set-Cookie header that carries it. */
  async start(login: string, via: ConsoleSession['via']): Promise<string> {
    const value = random();
    await this.store.createSession({
      idHash: hash(value),
      login,
      via,
      csrf: random(),
      expiresAt: new Date(Date.now() + SESSION_MS),
    });
    return this.set(SESSION_COOKIE, value, SESSION_MS / 1000, '/');
  }

  /** The request's session, when its cookie names one that has not ended. */
  async of(req: http.IncomingMessage): Promise<ConsoleSession | null> {
    const value = cookie(req, SESSION_COOKIE);
    return value ? this.store.getSession(hash(value)) : null;
  }

  /** Ends the request's session everywhere; the Set-Cookie header that forgets it. */
  async end(req: http.IncomingMessage): Promise<string> {
    const value = cookie(req, SESSION_COOKIE);
    if (value) await this.store.deleteSession(hash(value));
    return this.set(SESSION_COOKIE, '', 0, '/');
  }

  /** A fresh OAuth state and the cookie that remembers it for ten minutes. */
  state(): { state: string; setCookie: string } {
    const state = random();
    return { state, setCookie: this.set(STATE_COOKIE, state, 600, '/kindler/login') };
  }

  /** Whether `state` is the one this browser was given; the cookie that forgets it. */
  checkState(req: http.IncomingMessage, state: string | null): { ok: boolean; setCookie: string } {
    const kept = cookie(req, STATE_COOKIE);
    return {
      ok: kept !== null && state !== null && same(kept, state),
      setCookie: this.set(STATE_COOKIE, '', 0, '/kindler/login'),
    };
  }

  private set(name: string, value: string, maxAge: number, path: string): string {
    return (
      `${name}=${encodeURIComponent(value)}; Max-Age=${maxAge}; ` +
      `Path=${path}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`
    );
  }
}
