// /kindler/git/environments.git over HTTP: the credential checked (wrong guesses throttled per
// address), reads only, then `git http-backend` as a CGI program — the request body on its stdin,
// its headers and the pack streamed back. See git/git-service.ts for what is served and why.
import type http from 'node:http';
import { GIT_SERVICE_PATH, gitCredentialOk, gitRequestOf } from '../git/git-service.js';
import { spawnStream } from '../system/exec.js';
import { FailureThrottle } from './throttle.js';
import type { Handler } from './http-server.js';
import { peerAddress } from './peer.js';

/** A fetch's request body (wants and haves) is small; a larger one is refused. */
const MAX_REQUEST = 10 * 1024 * 1024;

export function gitHttpHandler(options: {
  /** The directory holding environments.git (`<data dir>/git`). */
  projectRoot: string;
  password: string;
  throttle?: FailureThrottle;
}): Handler {
  const throttle = options.throttle ?? new FailureThrottle();
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== GIT_SERVICE_PATH && !url.pathname.startsWith(`${GIT_SERVICE_PATH}/`))
      return false;
    const address = peerAddress(req);
    const wait = throttle.blocked(address);
    if (wait) return text(res, 429, `too many wrong credentials; try again in ${wait} s`);
    if (!gitCredentialOk(req, options.password)) {
      if (req.headers.authorization) throttle.fail(address);
      res.setHeader('www-authenticate', 'Basic realm="kindler-git"');
      return text(res, 401, 'the environment repository needs its credential (see devops.env)');
    }
    const asked = gitRequestOf(req.method ?? 'GET', url.pathname, url.searchParams);
    if ('status' in asked) return text(res, asked.status, asked.error);
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_REQUEST) return text(res, 413, 'request too large for a fetch');
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : '';
    };
    const child = spawnStream('git', ['http-backend'], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: asked.pathInfo,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: header('content-type'),
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
      // A client may gzip its request; git http-backend inflates it when told.
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      GIT_PROTOCOL: header('git-protocol'),
      REMOTE_ADDR: address,
    });
    req.pipe(child.stdin!);
    child.stdin!.on('error', () => undefined); // the client left mid-request
    child.stderr!.resume();
    await new Promise<void>((resolve) => {
      let head = Buffer.alloc(0);
      let started = false;
      const onData = (chunk: Buffer) => {
        if (started) return;
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        started = true;
        child.stdout!.off('data', onData);
        const { status, headers } = cgiHeaders(head.subarray(0, end).toString('latin1'));
        res.writeHead(status, headers);
        res.write(head.subarray(end + 4));
        child.stdout!.pipe(res);
      };
      child.stdout!.on('data', onData);
      child.once('error', () => {
        if (!res.headersSent) text(res, 500, 'git http-backend could not run');
        resolve();
      });
      child.once('close', () => {
        if (!res.headersSent) text(res, 500, 'git http-backend answered nothing');
        else if (!res.writableEnded) res.end();
        resolve();
      });
      res.once('close', () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
    });
    return true;
  };
}

/** The CGI header block: `Status: 404 Not Found` and the headers to pass on. */
function cgiHeaders(block: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]) || 200;
    else headers[name] = value;
  }
  return { status, headers };
}

function text(res: http.ServerResponse, status: number, message: string): true {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
  return true;
}
