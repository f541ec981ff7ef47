// Portainer's HTTP API (docs/external-apis.md §1): Edge environments by exact name. Authenticates
// with an access token (X-API-Key) or the admin password (JWT from /api/auth, kept for its
// lifetime).
import { z } from 'zod';
import { TransientError } from '../domain/index.js';
import { messageField, parseAnswer } from '../system/parse.js';

/** An environment (endpoint) as Portainer answers it: the fields read. */
const Endpoint = z.object({
  Id: z.number(),
  Name: z.string(),
  EdgeKey: z.string().optional(),
  /** Set when Portainer enforces its own Edge IDs, or once an agent has polled. */
  EdgeID: z.string().optional(),
  Type: z.number().optional(),
  /** Unix seconds of the Edge agent's last poll; 0 before its first. */
  LastCheckInDate: z.number().optional(),
  /** Seconds between the agent's polls; 0 means Portainer's global setting. */
  EdgeCheckinInterval: z.number().optional(),
});
export type PortainerEndpoint = z.output<typeof Endpoint>;
const Endpoints = z.array(Endpoint);
const Auth = z.object({ jwt: z.string() });
const Claims = z.object({ exp: z.number() });

export interface PortainerSettings {
  url: string;
  apiKey?: string | undefined;
  username: string;
  password?: string | undefined;
  /** The Portainer URL as the Edge Agent sees it (the form's URL field). */
  edgeUrl: string;
  groupId: number;
}

export class PortainerError extends Error {
  override readonly name = 'PortainerError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The token's own `exp` (Portainer sets it from its session timeout), a minute early. */
function jwtExpiry(jwt: string): number {
  try {
    const claims = Claims.safeParse(
      JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()),
    );
    if (claims.success) return claims.data.exp * 1000 - 60_000;
  } catch {
    // not a JWT we can read: fall through
  }
  return Date.now() + 5 * 60_000;
}

export class PortainerClient {
  private jwt: { token: string; until: number } | null = null;
  constructor(private readonly settings: PortainerSettings) {}

  async findEndpoint(name: string): Promise<PortainerEndpoint | null> {
    const list = await this.call(
      Endpoints,
      'GET',
      `/api/endpoints?${new URLSearchParams({ name, excludeSnapshots: 'true' })}`,
    );
    return list.find((e) => e.Name === name) ?? null;
  }

  getEndpoint(id: number): Promise<PortainerEndpoint> {
    return this.call(Endpoint, 'GET', `/api/endpoints/${id}`);
  }

  listEndpoints(): Promise<PortainerEndpoint[]> {
    return this.call(Endpoints, 'GET', '/api/endpoints?excludeSnapshots=true');
  }

  /** POST /api/endpoints (form, EndpointCreationType=4); the EdgeKey is returned verbatim. */
  createEdgeEndpoint(name: string): Promise<PortainerEndpoint> {
    const form = new URLSearchParams({
      Name: name,
      EndpointCreationType: '4',
      URL: this.settings.edgeUrl,
      GroupID: String(this.settings.groupId),
    });
    return this.call(Endpoint, 'POST', '/api/endpoints', form);
  }

  async deleteEndpoint(id: number): Promise<'deleted' | 'absent'> {
    try {
      await this.call(z.unknown(), 'DELETE', `/api/endpoints/${id}`);
      return 'deleted';
    } catch (error) {
      if (error instanceof PortainerError && error.status === 404) return 'absent';
      throw error;
    }
  }

  private async headers(): Promise<Record<string, string>> {
    if (this.settings.apiKey) return { 'x-api-key': this.settings.apiKey };
    if (!this.settings.password)
      throw new Error(
        'Portainer has no credentials. To resolve, set PORTAINER_API_KEY or ' +
          'PORTAINER_ADMIN_PASSWORD',
      );
    if (!this.jwt || this.jwt.until < Date.now()) {
      const { jwt } = await this.raw(
        Auth,
        'POST',
        '/api/auth',
        { Username: this.settings.username, Password: this.settings.password },
        {},
      );
      this.jwt = { token: jwt, until: jwtExpiry(jwt) };
    }
    return { authorization: `Bearer ${this.jwt.token}` };
  }

  private async call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: URLSearchParams,
  ): Promise<z.output<S>> {
    try {
      return await this.raw(schema, method, path, body, await this.headers());
    } catch (error) {
      // A session can end before its token says (Portainer's session timeout is configurable,
      // or the server restarted): log in again once.
      if (!(error instanceof PortainerError && error.status === 401 && this.jwt)) throw error;
      this.jwt = null;
      return this.raw(schema, method, path, body, await this.headers());
    }
  }

  /** The answer, checked against `schema`. */
  private async raw<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body: URLSearchParams | object | undefined,
    headers: Record<string, string>,
  ): Promise<z.output<S>> {
    const url = new URL(path, this.settings.url);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(body && !(body instanceof URLSearchParams)
            ? { 'content-type': 'application/json' }
            : {}),
        },
        ...(body ? { body: body instanceof URLSearchParams ? body : JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error…) is its cause.
      const cause = (error as Error).cause as { message?: string } | undefined;
      throw new TransientError(
        `Portainer ${method} ${url.pathname} failed: ` +
          `${(error as Error).message}${cause?.message ? ` (${cause.message})` : ''}`,
        { cause: error },
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const message = messageField(parsed);
      const detail =
        `Portainer ${method} ${url.pathname} answered ` +
        `${res.status}${message ? `: ${message}` : ''}`;
      throw res.status >= 500 || res.status === 429
        ? new TransientError(detail)
        : new PortainerError(detail, res.status);
    }
    return parseAnswer(schema, parsed, `Portainer ${method} ${url.pathname}`);
  }
}
