// Portainer CE on loopback, answering as its API does (api/http/handler/users/admin_init.go,
// user_create_access_token.go, auth/authenticate.go, endpoints/endpoint_create.go and
// security/bouncer.go), refusals included: the administrator is initialised once (409 after, a
// password under 12 characters is 400), /api/auth gives a JWT whose claims carry the user id,
// access tokens are made only with a JWT and the user's password (201 {rawAPIKey}), everything
// else needs X-API-Key or the JWT (401), Edge environment names are unique (409).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PortainerServer {
  url: string;
  port: number;
  admin: { username: string; password: string } | null;
  apiKeys: Set<string>;
  endpoints: {
    Id: number;
    Name: string;
    Type: number;
    EdgeKey: string;
    URL: string;
    /** Unix seconds of the Edge agent's last poll (0 until it polls: set it to play the agent). */
    LastCheckInDate: number;
    EdgeCheckinInterval: number;
  }[];
  requests: string[];
  close(): Promise<void>;
}

export async function startPortainerServer(): Promise<PortainerServer> {
  const jwts = new Set<string>();
  let ids = 0;
  const state: Omit<PortainerServer, 'url' | 'port' | 'close'> = {
    admin: null,
    apiKeys: new Set(),
    endpoints: [],
    requests: [],
  };
  const answer = (res: http.ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, status: number, message: string, details: string) =>
    answer(res, status, { message, details });
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://portainer');
      const route = `${req.method} ${url.pathname}`;
      state.requests.push(route);
      const json = () => {
        try {
          return JSON.parse(raw || '{}') as Record<string, unknown>;
        } catch {
          return null;
        }
      };
      if (route === 'GET /api/system/status')
        return answer(res, 200, { Version: '2.21.5', InstanceID: 'stand-in' });
      if (route === 'POST /api/users/admin/init') {
        const body = json();
        if (!body || typeof body.Username !== 'string' || typeof body.Password !== 'string')
          return error(res, 400, 'Invalid request payload', 'Invalid username');
        if (state.admin)
          return error(
            res,
            409,
            'Unable to create administrator user',
            'An administrator user already exists',
          );
        if (body.Password.length < 12)
          return error(res, 400, 'Password does not meet the requirements', '');
        state.admin = { username: body.Username, password: body.Password };
        return answer(res, 200, { Id: 1, Username: body.Username, Role: 1 });
      }
      if (route === 'POST /api/auth') {
        const body = json();
        if (!body) return error(res, 400, 'Invalid request payload', '');
        if (
          !state.admin ||
          body.Username !== state.admin.username ||
          body.Password !== state.admin.password
        )
          return error(res, 422, 'Invalid credentials', 'Unauthorized');
        const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ id: 1, username: state.admin.username, role: 1, exp: Math.floor(Date.now() / 1000) + 28_800 })}.${crypto.randomBytes(16).toString('base64url')}`;
        jwts.add(jwt);
        return answer(res, 200, { jwt });
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const viaJwt = bearer !== undefined && jwts.has(bearer);
      const viaKey = state.apiKeys.has(String(req.headers['x-api-key'] ?? ''));
      const tokens = /^\/api\/users\/(\d+)\/tokens$/.exec(url.pathname);
      if (req.method === 'POST' && tokens) {
        if (!viaJwt) return error(res, 401, 'Auth not supported', 'Authentication required');
        const body = json();
        if (!body || typeof body.description !== 'string' || !body.description)
          return error(res, 400, 'Invalid request payload', 'invalid description: cannot be empty');
        if (Number(tokens[1]) !== 1)
          return error(res, 403, 'Permission denied to create user access token', 'Unauthorized');
        if (body.password !== state.admin?.password)
          return error(
            res,
            403,
            "Current password doesn't match",
            'Current password does not match',
          );
        const key = `ptr_${crypto.randomBytes(24).toString('base64url')}`;
        state.apiKeys.add(key);
        return answer(res, 201, {
          rawAPIKey: key,
          apiKey: { id: state.apiKeys.size, userId: 1, description: body.description },
        });
      }
      if (!viaJwt && !viaKey)
        return error(res, 401, 'A valid authorization token is missing', 'Unauthorized');
      if (route === 'GET /api/endpoints') {
        const name = url.searchParams.get('name');
        return answer(
          res,
          200,
          state.endpoints.filter((e) => name === null || e.Name === name),
        );
      }
      if (route === 'POST /api/endpoints') {
        const form = new URLSearchParams(raw);
        const name = form.get('Name') ?? '';
        if (form.get('EndpointCreationType') !== '4')
          return error(res, 400, 'Invalid request payload', 'invalid environment type value');
        const edgeUrl = form.get('URL') ?? '';
        if (!edgeUrl) return error(res, 400, 'Invalid request payload', 'URL cannot be empty');
        if (new URL(edgeUrl).hostname === 'localhost')
          return error(res, 400, 'Unable to parse host', 'cannot use localhost as environment URL');
        if (state.endpoints.some((e) => e.Name === name))
          return error(res, 409, 'Name is not unique', 'Name is not unique');
        const id = ++ids;
        const edgeKey = Buffer.from(`${edgeUrl}|${new URL(edgeUrl).hostname}:8000|aa:bb:cc|${id}`)
          .toString('base64')
          .replace(/=+$/, '');
        const endpoint = {
          Id: id,
          Name: name,
          Type: 4,
          EdgeKey: edgeKey,
          URL: new URL(edgeUrl).host,
          LastCheckInDate: 0,
          EdgeCheckinInterval: Number(form.get('EdgeCheckinInterval') ?? 0),
        };
        state.endpoints.push(endpoint);
        return answer(res, 200, endpoint);
      }
      const one = /^\/api\/endpoints\/(\d+)$/.exec(url.pathname);
      if (one) {
        const found = state.endpoints.find((e) => e.Id === Number(one[1]));
        if (!found)
          return error(
            res,
            404,
            'Unable to find an environment with the specified identifier inside the database',
            'Object not found inside the database',
          );
        if (req.method === 'GET') return answer(res, 200, found);
        if (req.method === 'DELETE') {
          state.endpoints.splice(state.endpoints.indexOf(found), 1);
          return answer(res, 204);
        }
      }
      return error(res, 404, 'Not found', route);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
