// The console's static files: the page script (src/web/assets, copied next to the build) and the
// icon. Everything else under /kindler/assets/ is not found.
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { packageRoot } from '../system/package-root.js';

let script: Promise<string> | null = null;
/** The page script, read once from the package. */
const liveScript = () =>
  (script ??= fs.readFile(path.join(packageRoot(), 'src/web/assets/live.js'), 'utf8'));

/** The console's icon: a k on a rounded square, in the console's green. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#1a7f37"/>' +
  '<path d="M10 7v18M10 17l9-9M13 14l8 11" stroke="#fff" stroke-width="3.5" fill="none" ' +
  'stroke-linecap="round"/></svg>';

/** Sends the asset `name`; false (not found) for any other. */
export async function sendAsset(res: http.ServerResponse, name: string): Promise<boolean> {
  const [type, body, cache] =
    name === 'live.js'
      ? ['text/javascript; charset=utf-8', await liveScript(), 'no-cache']
      : name === 'favicon.svg'
        ? ['image/svg+xml', FAVICON, 'max-age=86400']
        : [null, '', ''];
  if (!type) return false;
  res
    .writeHead(200, {
      'content-type': type,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
    })
    .end(body);
  return true;
}
