// Puts the executable fakes for k3d, kind and docker first on PATH with a fresh state directory.
// `env` is what a child process (the CLI in crash tests) needs; `apply()` sets it in this process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../fixtures/bin');

export interface FailSpec {
  exit?: number;
  stderr?: string;
  times?: number;
  delayMs?: number;
}

export interface Fakes {
  stateDir: string;
  env: Record<string, string>;
  /** Every recorded call, as [tool, ...args]. */
  argv(): string[][];
  clearArgv(): void;
  fail(prefix: string, spec: FailSpec): void;
  clearFailures(): void;
  state(): {
    k3d: Record<
      string,
      {
        ports: { host: number; container: number }[];
        network?: string;
        image?: string;
        running?: boolean;
      }
    >;
    kind: Record<
      string,
      {
        ports: { host: number; container: number }[];
        config: string;
        image?: string;
        running?: boolean;
      }
    >;
    networks: Record<string, { subnet?: string; gateway?: string }>;
  };
  /** The state a k3d that runs a cluster for each row holds (its ports the row's), nothing else. */
  holdK3dClusters(
    rows: { name: string; httpPort: number; httpsPort: number }[],
    /** The Docker endpoint holding them (its own state, as the CLIs keep it); unset: this one. */
    dockerHost?: string,
  ): void;
  /** Sets PATH and KINDLER_FAKE_* in process.env; returns a function that restores them. */
  apply(): () => void;
  cleanup(): void;
}

export function setupFakes(): Fakes {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kindler-fakes-'));
  const env: Record<string, string> = {
    PATH: `${BIN}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    KINDLER_FAKE_STATE: stateDir,
    KINDLER_FAKE_NODE: process.execPath,
    // Children see only an allow-listed environment; the fakes need their own variables.
    KINDLER_CHILD_ENV: 'KINDLER_FAKE_*',
    // No cluster behind the fakes answers HTTP: tests of the ready probe set their own entry.
    KINDLER_READY_TIMEOUT: '0',
  };
  const failFile = path.join(stateDir, 'fail.json');
  const read = <T>(file: string, fallback: T): T => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    } catch {
      return fallback;
    }
  };
  return {
    stateDir,
    env,
    argv: () =>
      fs.existsSync(path.join(stateDir, 'argv.log'))
        ? fs
            .readFileSync(path.join(stateDir, 'argv.log'), 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
    clearArgv: () => fs.rmSync(path.join(stateDir, 'argv.log'), { force: true }),
    fail(prefix, spec) {
      fs.writeFileSync(
        failFile,
        JSON.stringify({ ...read<Record<string, FailSpec>>(failFile, {}), [prefix]: spec }),
      );
    },
    clearFailures: () => fs.rmSync(failFile, { force: true }),
    state: () => read(path.join(stateDir, 'state.json'), { k3d: {}, kind: {}, networks: {} }),
    holdK3dClusters(rows, dockerHost) {
      const k3d = Object.fromEntries(
        rows.map((r) => [
          r.name,
          {
            ports: [
              { host: r.httpPort, container: 80 },
              { host: r.httpsPort, container: 443 },
            ],
            running: true,
          },
        ]),
      );
      const file = dockerHost
        ? `state-${dockerHost.replace(/[^A-Za-z0-9]+/g, '_')}.json`
        : 'state.json';
      fs.writeFileSync(path.join(stateDir, file), JSON.stringify({ k3d, kind: {}, networks: {} }));
    },
    apply() {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      return () => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
    },
    cleanup: () => fs.rmSync(stateDir, { recursive: true, force: true }),
  };
}
