// Kubernetes through @kubernetes/client-node's KubernetesObjectApi: the kubeconfig supplies the
// server (a path prefix included), TLS and credentials; everything the bot owns is written with
// server-side apply (fieldManager kindler, force), so a second run, a crash-resume or a custom
// resource needs no resourceVersion dance. Reads answer null on 404, deletes 'absent'. Errors
// carry the apiserver's Status message, never a token. The library is loaded on the first client
// made (about 0.6 s and 40 MB): a command that never talks to Kubernetes never pays for it.
import { z } from 'zod';
import type * as K8s from '@kubernetes/client-node';
import { messageField, parseAnswer } from '../system/parse.js';
import { TransientError } from '../domain/index.js';

let library: Promise<typeof K8s> | null = null;
const k8s = (): Promise<typeof K8s> => (library ??= import('@kubernetes/client-node'));

/** What is read of a Secret: its data, base64 values by key. */
export const SecretData = z.object({ data: z.record(z.string(), z.string()).nullish() });
/** What is read of a listed object: its name and labels. */
export const Labelled = z.object({
  metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).nullish() }),
});

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [k: string]: unknown;
}

/** What a read or delete needs: the object's type and name. */
export type KubeRef = Pick<KubeObject, 'apiVersion' | 'kind'> & {
  metadata: { name: string; namespace?: string };
};

export const FIELD_MANAGER = 'kindler';

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class KubeClient {
  private readonly api: K8s.KubernetesObjectApi;
  private constructor(
    private readonly lib: typeof K8s,
    private readonly kc: K8s.KubeConfig,
    readonly context: string,
  ) {
    this.api = lib.KubernetesObjectApi.makeApiClient(kc);
  }

  /** From a kubeconfig YAML (a new cluster's, from its provider). */
  static async fromYaml(yaml: string): Promise<KubeClient> {
    const lib = await k8s();
    const kc = new lib.KubeConfig();
    kc.loadFromString(yaml);
    return new KubeClient(lib, kc, kc.getCurrentContext());
  }

  /**
   * From a named context (the devops cluster) of the kubeconfig files listed in `kubeconfig`
   * (KUBECONFIG, colon-separated: the first file holding the context wins) or ~/.kube/config.
   */
  static async fromDefault(context: string, kubeconfig?: string): Promise<KubeClient> {
    const lib = await k8s();
    const kc = new lib.KubeConfig();
    const files = kubeconfig?.split(':').filter(Boolean) ?? [];
    if (files.length === 0) kc.loadFromDefault();
    for (const file of files) {
      kc.loadFromFile(file);
      if (kc.getContextObject(context)) break;
    }
    if (!kc.getContextObject(context))
      throw new Error(
        `kube context "${context}" is not in the kubeconfig. To resolve, check ` +
          `DEVOPS_CONTEXT and KUBECONFIG`,
      );
    kc.setCurrentContext(context);
    return new KubeClient(lib, kc, context);
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** Server-side apply: creates or updates the fields this bot owns, whatever else is there. */
  async apply(object: KubeObject): Promise<KubeObject> {
    return this.call('apply', object, () =>
      this.api.patch(
        structuredClone(object) as K8s.KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        this.lib.PatchStrategy.ServerSideApply,
      ),
    ) as Promise<KubeObject>;
  }

  /** GET, the answer checked against `schema` (what the caller reads of it); null on 404. */
  async read<S extends z.ZodType>(ref: KubeRef, schema: S): Promise<z.output<S> | null> {
    try {
      const object = await this.call('read', ref, () =>
        this.api.read(structuredClone(ref) as never),
      );
      return parseAnswer(schema, object, `${this.context}: read ${ref.kind} ${ref.metadata.name}`);
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Lists a kind in a namespace (or cluster-wide), optionally by label selector; each item checked
   * against `item`.
   */
  async list<S extends z.ZodType>(
    item: S,
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<z.output<S>[]> {
    const ref = { apiVersion, kind, metadata: { name: '', ...(namespace ? { namespace } : {}) } };
    const list = await this.call('list', ref, () =>
      this.api.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      ),
    );
    const who = `${this.context}: list ${kind}`;
    return parseAnswer(z.object({ items: z.array(item).nullish() }), list, who).items ?? [];
  }

  /** Deletes; 'absent' when it was not there. */
  async remove(ref: KubeRef): Promise<'deleted' | 'absent'> {
    try {
      await this.call('delete', ref, () =>
        this.api.delete(structuredClone(ref) as K8s.KubernetesObject),
      );
      return 'deleted';
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return 'absent';
      throw error;
    }
  }

  private async call<T>(verb: string, ref: KubeRef, run: () => Promise<T>): Promise<T> {
    const what =
      `${verb} ${ref.kind} ` +
      `${ref.metadata.namespace ? `${ref.metadata.namespace}/` : ''}${ref.metadata.name}`;
    try {
      return await run();
    } catch (error) {
      if (error instanceof this.lib.ApiException) {
        const code = error.code as number;
        const text = `${this.context}: ${what} answered ${code}${statusMessage(error.body)}`;
        throw code >= 500 || code === 429
          ? new TransientError(text)
          : new KubeError(text, code, { cause: null });
      }
      // fetch failures (refused, reset, DNS, TLS) name their reason in the cause.
      const err = error as Error & { cause?: { message?: string; code?: string } };
      const reason = err.cause?.code ?? err.cause?.message ?? err.message;
      throw new TransientError(`${this.context}: ${what} failed: ${reason}`);
    }
  }
}

function statusMessage(body: unknown): string {
  const message = messageField(typeof body === 'string' ? safeJson(body) : body);
  return message ? `: ${message}` : '';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
