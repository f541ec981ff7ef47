// Runs the pieces in order, each probed then ensured, saying how each went as it goes; what they
// produced is written to <data dir>/devops.env after every piece (mode 600), so a run stopped
// half-way resumes with what it had made. `check` only probes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEVOPS_ENV_FILE } from '../config/devops-env.js';
import { byText, messageOf } from '../domain/index.js';
import type { BootstrapContext, Piece, PieceName, Probe } from './piece.js';

export interface PieceResult {
  name: PieceName;
  title: string;
  outcome: 'made' | 'present' | 'failed';
  detail: string;
  ms: number;
}

export async function runBootstrap(
  pieces: Piece[],
  ctx: BootstrapContext,
  onPiece: (result: PieceResult) => void,
): Promise<{ ok: boolean; results: PieceResult[] }> {
  const results: PieceResult[] = [];
  for (const piece of pieces) {
    const started = Date.now();
    let result: PieceResult;
    try {
      const found = await piece.probe(ctx);
      const detail = await piece.ensure(ctx, found);
      result = {
        name: piece.name,
        title: piece.title,
        outcome: found.state === 'ok' ? 'present' : 'made',
        detail,
        ms: Date.now() - started,
      };
    } catch (error) {
      result = {
        name: piece.name,
        title: piece.title,
        outcome: 'failed',
        detail: messageOf(error),
        ms: Date.now() - started,
      };
    }
    await ctx.save();
    results.push(result);
    onPiece(result);
    if (result.outcome === 'failed') return { ok: false, results };
  }
  return { ok: true, results };
}

/** Every piece probed: what is there and answering, what is missing or down. */
export async function checkBootstrap(
  pieces: Piece[],
  ctx: BootstrapContext,
): Promise<{ name: PieceName; title: string; probe: Probe }[]> {
  const out: { name: PieceName; title: string; probe: Probe }[] = [];
  for (const piece of pieces) {
    const probe = await piece
      .probe(ctx)
      .catch((error: unknown): Probe => ({ state: 'down', detail: messageOf(error) }));
    out.push({ name: piece.name, title: piece.title, probe });
  }
  return out;
}

/** devops.env: KEY="value" lines, readable by this user only. */
export async function writeSettings(dataDir: string, settings: Record<string, string>) {
  const lines = Object.entries(settings)
    .sort(([a], [b]) => byText(a, b))
    .map(([key, value]) => {
      if (/["\n\\]/.test(value)) throw new Error(`${key} holds a character devops.env cannot keep`);
      return `${key}="${value}"`;
    });
  const file = path.join(dataDir, DEVOPS_ENV_FILE);
  await fs.mkdir(dataDir, { recursive: true });
  const text =
    `# Made by \`kindler bootstrap\`; read at start (variables you set win). Mode ` +
    `600: it holds keys.\n${lines.join('\n')}\n`;
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, text, { mode: 0o600 });
  await fs.rename(temp, file);
}
