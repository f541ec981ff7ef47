// A load generator in its own process (so its CPU is not the server's): POSTs pre-signed
// deliveries with `inFlight` keep-alive connections and prints each round-trip time as JSON.
// Usage: node bench/load-client.mjs <url> <deliveries.json> <inFlight>
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [url, file, inFlight = '10'] = process.argv.slice(2);
const deliveries = JSON.parse(fs.readFileSync(file, 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(inFlight) });
const post = (d) =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(d.body),
          ...d.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode >= 200 && res.statusCode < 300
            ? resolve(performance.now() - start)
            : reject(new Error(`answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(d.body);
  });
const times = [];
let next = 0;
await Promise.all(
  Array.from({ length: Number(inFlight) }, async () => {
    while (next < deliveries.length) times.push(await post(deliveries[next++]));
  }),
);
agent.destroy();
process.stdout.write(JSON.stringify(times));
