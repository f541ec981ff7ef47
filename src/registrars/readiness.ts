// `ready` means reachable. The probe asks the environment's entry for whoami.<env>.<BASE_DOMAIN>
// (its site's domain, on a site with a gateway of its own): through its gateway when HAProxy
// routes the environment, otherwise the cluster's published http
// port with that Host header. With Argo CD configured (it deploys the app) the environment is
// ready when its Application is Synced and Healthy and the entry answers 2xx; without Argo CD,
// when the cluster's ingress answers HTTP at all (a closed port or a reset is not an answer).
// Bounded by KINDLER_READY_TIMEOUT; a timeout fails the step with what it saw last.
import { z } from 'zod';
import http from 'node:http';
import {
  Failure,
  argoApplicationName,
  whoamiHost,
  type Environment,
  type Site,
} from '../domain/index.js';
import type { KubeClient } from './kube.js';

/** What is read of an Argo CD Application: its sync and health status. */
const ApplicationStatus = z.object({
  status: z
    .object({
      sync: z.object({ status: z.string().optional() }).optional(),
      health: z.object({ status: z.string().optional() }).optional(),
    })
    .optional(),
});

/**
 * Probes reuse their connections: the reconcile loop asks every environment's entry — through the
 * one gateway, mostly — each pass.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 10_000 });

export interface ReadySettings {
  /** Seconds; 0 skips the probe. */
  timeoutS: number;
  intervalMs: number;
  baseDomain: string;
  /** The gateway's address when HAProxy is configured: host and http port. */
  gateway: { host: string; port: number } | null;
  /** Where a published port is reached (the Docker host). */
  clusterHost: string;
  /** Declared sites: where their published ports are, and their own gateway (readySites). */
  sites?: Record<string, ReadySite>;
  argo: { devops: () => Promise<KubeClient>; namespace: string } | null;
}

/** A site as the probe reaches it. */
export interface ReadySite {
  clusterHost: string | null;
  /** Its own gateway: its environments' domain and where it answers. */
  own: { baseDomain: string; host: string; port: number } | null;
}

export const readySites = (sites: readonly Site[]): Record<string, ReadySite> =>
  Object.fromEntries(
    sites.map((s) => [
      s.name,
      {
        clusterHost: s.address,
        own: s.gateway
          ? {
              baseDomain: s.gateway.baseDomain,
              host: s.address ?? '127.0.0.1',
              port: s.gateway.httpPort,
            }
          : null,
      },
    ]),
  );

export interface ReadyContext {
  signal: AbortSignal;
  log(line: string): void;
}

type Seen = { ok: boolean; text: string };

export class ReadinessProbe {
  constructor(private readonly settings: ReadySettings) {}

  /** The entry probed for an environment: URL and Host header. */
  entry(env: Environment): { url: string; host: string } {
    const site = this.settings.sites?.[env.site];
    const host = whoamiHost(env.name, site?.own?.baseDomain ?? this.settings.baseDomain);
    const gateway = site?.own ?? this.settings.gateway;
    const via =
      gateway && env.haproxyRoute
        ? gateway
        : { host: site?.clusterHost ?? this.settings.clusterHost, port: env.httpPort };
    return { url: `http://${via.host}:${via.port}/`, host };
  }

  async wait(env: Environment, ctx: ReadyContext): Promise<string> {
    const { timeoutS, intervalMs } = this.settings;
    if (timeoutS === 0) return 'environment ready (probe skipped: KINDLER_READY_TIMEOUT=0)';
    const deadline = Date.now() + timeoutS * 1000;
    const { url, host } = this.entry(env);
    let last: Seen[];
    for (;;) {
      last = await Promise.all([
        this.probe(url, host, ctx.signal),
        ...(this.settings.argo ? [this.application(env)] : []),
      ]);
      if (last.every((s) => s.ok)) return `reachable: ${last.map((s) => s.text).join('; ')}`;
      if (Date.now() + intervalMs > deadline || ctx.signal.aborted) break;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new Failure(
      'step_failed',
      `"${env.name}" did not become reachable within ${timeoutS} ` +
        `s; last seen: ${last.map((s) => s.text).join('; ')}`,
    );
  }

  /** Whether environments are probed at all (KINDLER_READY_TIMEOUT=0 skips it). */
  get enabled(): boolean {
    return this.settings.timeoutS > 0;
  }

  /** One probe of the environment's entry now: whether it answered as `wait` wants, how fast. */
  async probeOnce(env: Environment, signal: AbortSignal): Promise<Seen & { ms: number }> {
    const { url, host } = this.entry(env);
    const started = performance.now();
    const seen = await this.probe(url, host, signal);
    return { ...seen, ms: Math.round(performance.now() - started) };
  }

  /**
   * One GET of the entry. A kept-alive connection the other end closed as it was reused answers
   * ECONNRESET though the entry is up: that GET is sent again on a new connection, as Node's
   * `request.reusedSocket` documentation advises (a GET is safe to repeat).
   */
  private probe(url: string, host: string, signal: AbortSignal, fresh = false): Promise<Seen> {
    const strict = this.settings.argo !== null;
    const what = `GET ${url} (Host ${host})`;
    return new Promise((resolve) => {
      const options = { headers: { host }, timeout: 5_000, signal, agent: fresh ? false : agent };
      const req = http.get(url, options, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        const ok = strict ? code >= 200 && code < 300 : code > 0;
        resolve({ ok, text: `${what} answered ${code}` });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!fresh && req.reusedSocket && error.code === 'ECONNRESET' && !signal.aborted)
          resolve(this.probe(url, host, signal, true));
        else resolve({ ok: false, text: `${what}: ${error.code ?? error.message}` });
      });
    });
  }

  private async application(env: Environment): Promise<Seen> {
    const { devops, namespace } = this.settings.argo!;
    const name = argoApplicationName(env.name);
    try {
      const app = await (
        await devops()
      ).read(
        { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace } },
        ApplicationStatus,
      );
      if (!app) return { ok: false, text: `Application ${name} does not exist yet` };
      const sync = app.status?.sync?.status ?? 'Unknown';
      const health = app.status?.health?.status ?? 'Unknown';
      return {
        ok: sync === 'Synced' && health === 'Healthy',
        text: `Application ${name} ${sync}/${health}`,
      };
    } catch (error) {
      return { ok: false, text: `Application ${name}: ${(error as Error).message}` };
    }
  }
}
