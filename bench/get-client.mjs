// A GET load generator in its own process (its CPU is not the server's): `inFlight` keep-alive
// connections ask `count` requests, the routes in turn, and it prints each route's round-trip
// times and the whole run's wall time as JSON.
// Usage: node bench/get-client.mjs <base> <routes.json> <inFlight> <count>
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [base, routesJson, inFlight = '10', count = '1000'] = process.argv.slice(2);
const routes = JSON.parse(routesJson);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(inFlight) });
const get = (route) =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    http
      .get(`${base}${route}`, { agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(performance.now() - start)
            : reject(new Error(`${route} answered ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
const times = Object.fromEntries(routes.map((r) => [r, []]));
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(inFlight) }, async () => {
    while (next < Number(count)) {
      const route = routes[next++ % routes.length];
      times[route].push(await get(route));
    }
  }),
);
const wallMs = performance.now() - started;
agent.destroy();
process.stdout.write(JSON.stringify({ wallMs, times }));
