// The yardstick for the server's routes: a bare node:http server answering each route with the
// bytes (and content type) the real server gave it, captured beforehand — what serving the same
// answer costs with nothing computed. Prints "listening <port>".
// Usage: node bench/bare-server.mjs <answers.json>  ({ route: { type, body(base64) } })
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';

const answers = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const bodies = new Map(
  Object.entries(answers).map(([route, a]) => [
    route,
    { type: a.type, body: Buffer.from(a.body, 'base64') },
  ]),
);
const server = http.createServer((req, res) => {
  const answer = bodies.get(req.url ?? '');
  if (!answer) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': answer.type, 'content-length': answer.body.length });
  res.end(answer.body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
