// The providers of every site: the same k3d and kind CLIs, each site's children given its
// DOCKER_HOST (or DOCKER_CONTEXT) through the child-environment allow-list, as the real CLIs reach
// whichever Docker that names. A site's room is measured with `docker info` the same way.
import { z } from 'zod';
import {
  Failure,
  LOCAL_SITE,
  localSite,
  siteEnv,
  type Environment,
  type ProviderName,
  type Site,
  type SiteRoom,
} from '../domain/index.js';
import { CliError, run } from '../system/exec.js';
import { K3dProvider } from './k3d-provider.js';
import { KindProvider } from './kind-provider.js';
import type { CliSettings, Provider } from './provider.js';

export type Providers = Record<ProviderName, Provider>;

/** `docker info --format '{{json .}}'`: what a site's room is read from. */
const DockerInfo = z.object({
  NCPU: z.number().optional(),
  MemTotal: z.number().optional(),
  ContainersRunning: z.number().optional(),
  ServerErrors: z.array(z.string()).optional(),
});

/** How a site's room is measured (`docker info`); null: not measured (the one local site). */
export type MeasureWith = { docker: string; timeoutMs: number } | null;

export class SiteFleet {
  private bySite = new Map<string, Providers>();
  private current: readonly Site[] = [];

  constructor(
    sites: readonly Site[],
    private readonly make: (site: Site) => Providers,
    private measureWith: MeasureWith = null,
  ) {
    this.use(sites, measureWith);
  }

  /** The sites declared now. */
  get sites(): readonly Site[] {
    return this.current;
  }

  /** From now on, these sites (the config repository declared others). */
  use(sites: readonly Site[], measureWith: MeasureWith): void {
    this.bySite = new Map(sites.map((site) => [site.name, this.make(site)]));
    this.current = sites;
    this.measureWith = measureWith;
  }

  /** One site, `local`, with these providers (no KINDLER_SITES, or a test of one provider). */
  static single(providers: Providers): SiteFleet {
    return new SiteFleet([localSite()], () => providers);
  }

  /** Whether sites were declared (placement then measures them); one local site is today's. */
  get declared(): boolean {
    return this.measureWith !== null;
  }

  /** The providers reaching the site's Docker; a site no longer declared is refused. */
  of(site: string): Providers {
    const providers = this.bySite.get(site);
    if (!providers)
      throw new Failure(
        'not_configured',
        `site "${site}" is not declared (KINDLER_SITES, or the config repository's sites), so ` +
          `its clusters cannot be reached; ` +
          `declare it again (or delete its environments once it is back)`,
      );
    return providers;
  }

  /**
   * The environment's kubeconfig, its API server at its site's address when the site has one (a
   * remote Docker publishes the API on its own loopback, which is not ours).
   */
  async kubeconfig(env: Pick<Environment, 'name' | 'provider' | 'site'>): Promise<string> {
    const yaml = await this.of(env.site)[env.provider].kubeconfig(env.name);
    const address = this.sites.find((s) => s.name === env.site)?.address;
    return address ? atAddress(yaml, address) : yaml;
  }

  /** The providers of the default site (what the CLIs on PATH are checked with). */
  first(): Providers {
    return this.of(this.sites[0]?.name ?? LOCAL_SITE);
  }

  /** What the site's Docker says of its room; throws with Docker's words when it is down. */
  async measure(site: Site, signal?: AbortSignal): Promise<SiteRoom> {
    if (!this.measureWith) return { cpus: 0, memoryBytes: 0, containersRunning: 0 };
    let stdout: string;
    try {
      ({ stdout } = await run(this.measureWith.docker, ['info', '--format', '{{json .}}'], {
        timeoutMs: this.measureWith.timeoutMs,
        env: siteEnv(site),
        ...(signal ? { signal } : {}),
      }));
    } catch (error) {
      // docker info prints the server's error in its JSON when the daemon cannot be reached.
      const said = error instanceof CliError ? DockerInfo.safeParse(jsonOf(error.stdout)) : null;
      const why = said?.success ? said.data.ServerErrors?.[0] : undefined;
      throw new Failure('degraded', why ?? (error as Error).message);
    }
    const info = DockerInfo.parse(jsonOf(stdout));
    if (info.ServerErrors?.length) throw new Failure('degraded', info.ServerErrors[0] as string);
    return {
      cpus: info.NCPU ?? 0,
      memoryBytes: info.MemTotal ?? 0,
      containersRunning: info.ContainersRunning ?? 0,
    };
  }
}

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The providers of each site, their children given its DOCKER_HOST or DOCKER_CONTEXT; `declared`:
 * the sites come from KINDLER_SITES, and placement measures each with `docker info`.
 */
export function fleetOf(sites: readonly Site[], cli: CliSettings, declared: boolean): SiteFleet {
  return new SiteFleet(
    sites,
    (site) => {
      const settings = { ...cli, env: siteEnv(site) };
      return { k3d: new K3dProvider(settings), kind: new KindProvider(settings) };
    },
    measuring(cli, declared),
  );
}

/** Declared sites are measured with the docker CLI the providers' children use. */
export const measuring = (cli: CliSettings, declared: boolean): MeasureWith =>
  declared
    ? { docker: cli.bins?.docker ?? 'docker', timeoutMs: Math.min(cli.timeoutMs, 15_000) }
    : null;

/** A kubeconfig whose servers on a loopback address are at `address` instead. */
export const atAddress = (yaml: string, address: string): string =>
  yaml.replace(
    /^(\s*server:\s*https?:\/\/)(127\.0\.0\.1|0\.0\.0\.0|localhost)(?=[:/\s]|$)/gm,
    `$1${address}`,
  );
