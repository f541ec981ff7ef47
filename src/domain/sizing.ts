// The size of an environment's nodes: CPUs and memory each node container may use (upstream's
// DEFAULT_NODE_CPUS/DEFAULT_NODE_MEMORY, applied with `docker update`). Null: no limit of its own.
// Pure: the readers of `--cpus 1.5` and `--memory 2g`, and how a size is told.

/** What one node may use; either may be unset (no limit). */
export interface NodeSize {
  /** CPUs per node (Docker's `--cpus`), in hundredths at most. */
  nodeCpus: number | null;
  /** Memory per node in MiB (k3d's `--servers-memory`/`--agents-memory`, Docker's `--memory`). */
  nodeMemoryMib: number | null;
}

/** The bounds one request may ask (a principal's share of the host, like the node counts). */
export const SIZE_LIMITS = {
  cpus: { min: 0.1, max: 64 },
  memoryMib: { min: 256, max: 256 * 1024 },
} as const;

const UNITS: Record<string, number> = { m: 1, g: 1024, t: 1024 * 1024 };

/**
 * Memory as Docker reads it (`512m`, `2g`, `1.5G`, `2GiB`), in whole MiB; the refusal when it is
 * not one or is out of bounds.
 */
export function parseMemory(
  raw: string,
  bounds: { min: number; max: number } = SIZE_LIMITS.memoryMib,
): { mib: number } | { message: string } {
  const m = /^(\d{1,7}(?:\.\d{1,3})?)\s?([mgt])(?:i?b)?$/i.exec(raw.trim());
  const mib = m ? Math.round(Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] ?? 0)) : NaN;
  const { min, max } = bounds;
  if (Number.isFinite(mib) && mib >= min && mib <= max) return { mib };
  const range =
    max === Infinity
      ? `of at least ${formatMemory(min)}`
      : `from ${formatMemory(min)} to ${formatMemory(max)}`;
  return { message: `a size ${range} (512m, 2g, 1.5g), not "${raw.slice(0, 20)}"` };
}

/** CPUs as Docker's `--cpus` reads them (`1`, `1.5`, `0.25`); the refusal out of bounds. */
export function parseCpus(raw: string | number): { cpus: number } | { message: string } {
  const text = String(raw).trim();
  const { min, max } = SIZE_LIMITS.cpus;
  const cpus = /^\d{1,3}(?:\.\d{1,2})?$/.test(text) ? Number(text) : NaN;
  if (cpus >= min && cpus <= max) return { cpus };
  return {
    message: `a number of CPUs from ${min} to ${max} (1, 1.5, 0.25), not "${text.slice(0, 20)}"`,
  };
}

/** MiB as Docker writes them back: `512m`, `2g`, `1.5g`. */
export function formatMemory(mib: number): string {
  if (mib >= 1024 && (mib * 100) % 1024 === 0) return `${mib / 1024}g`;
  return `${mib}m`;
}

/** A size in words: `2 CPUs and 4g per node`; null when it sets no limit. */
export function describeSize(size: NodeSize): string | null {
  const parts = [
    ...(size.nodeCpus === null ? [] : [`${size.nodeCpus} CPU${size.nodeCpus === 1 ? '' : 's'}`]),
    ...(size.nodeMemoryMib === null ? [] : [formatMemory(size.nodeMemoryMib)]),
  ];
  return parts.length ? `${parts.join(' and ')} per node` : null;
}

/** What an environment of `nodes` nodes of `size` holds of a site's budget. */
export const heldBy = (nodes: number, size: NodeSize) => ({
  cpus: nodes * (size.nodeCpus ?? 0),
  memoryMib: nodes * (size.nodeMemoryMib ?? 0),
});

/** An environment's nodes in words: `1 server, 2 agents; 2 CPUs and 4g per node`. */
export function describeNodes(env: NodeSize & { servers: number; agents: number }): string {
  const counts =
    `${env.servers} server${env.servers === 1 ? '' : 's'}, ` +
    `${env.agents} agent${env.agents === 1 ? '' : 's'}`;
  return `${counts}; ${describeSize(env) ?? 'no limits per node'}`;
}
