// The server's routes under load, beside a bare node:http server answering the same bytes: each
// route alone (10 in flight: p50, p99), the routes mixed (requests per second). Both are driven by
// one client in its own process (bench/get-client.mjs), so neither shares a CPU with its load.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Figure } from './figure.js';

const IN_FLIGHT = 10;
const CLIENT = path.resolve(import.meta.dirname, 'get-client.mjs');
const BARE = path.resolve(import.meta.dirname, 'bare-server.mjs');

interface Run {
  wallMs: number;
  times: Record<string, number[]>;
}

function load(base: string, routes: string[], count: number): Run {
  const r = spawnSync(
    process.execPath,
    [CLIENT, base, JSON.stringify(routes), String(IN_FLIGHT), String(count)],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`the load client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Run;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

/** The bare server over the answers `base` gives to `routes`; stopped by the returned function. */
async function bareServer(base: string, routes: string[], dir: string) {
  const answers: Record<string, { type: string; body: string }> = {};
  for (const route of routes) {
    const res = await fetch(`${base}${route}`);
    if (!res.ok) throw new Error(`${route} answered ${res.status}`);
    answers[route] = {
      type: res.headers.get('content-type') ?? 'text/plain',
      body: Buffer.from(await res.arrayBuffer()).toString('base64'),
    };
  }
  const file = path.join(dir, 'answers.json');
  fs.writeFileSync(file, JSON.stringify(answers));
  const child = spawn(process.execPath, [BARE, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the bare server exited ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

export async function routeFigures(base: string, routes: string[], dir: string): Promise<Figure[]> {
  const bare = await bareServer(base, routes, dir);
  const figures: Figure[] = [];
  try {
    for (const target of [bare.base, base]) load(target, routes, 200); // warm both
    for (const route of routes) {
      const ours = load(base, [route], 500).times[route] as number[];
      const yard = load(bare.base, [route], 500).times[route] as number[];
      const p50 = quantile(ours, 0.5);
      const bareP50 = quantile(yard, 0.5);
      figures.push(
        {
          name: `\`${route}\`, ${IN_FLIGHT} in flight: p50 (bare node:http with the same bytes: ${bareP50.toFixed(1)} ms; ${(p50 / bareP50).toFixed(1)}×)`,
          value: p50,
          unit: 'ms',
          goal: `≤ 5 × bare (${(5 * bareP50).toFixed(1)} ms)`,
        },
        { name: `\`${route}\`: p99`, value: quantile(ours, 0.99), unit: 'ms', goal: '—' },
      );
    }
    const mixed = (target: string) => {
      const run = load(target, routes, 3000);
      return 3000 / (run.wallMs / 1000);
    };
    const bareRate = mixed(bare.base);
    const rate = mixed(base);
    figures.push(
      {
        name: `yardstick: bare node:http, the same routes mixed, ${IN_FLIGHT} in flight`,
        value: bareRate,
        unit: 'req/s',
        goal: '—',
      },
      {
        name: `server throughput, the routes mixed (${(bareRate / rate).toFixed(1)}× fewer than bare)`,
        value: rate,
        unit: 'req/s',
        goal: '≥ 1000 req/s',
      },
    );
    return figures;
  } finally {
    bare.stop();
  }
}
