// A small Kubernetes client: @kubernetes/client-node reads the kubeconfig and supplies TLS and
// credentials; requests go over node:https to the real API paths, with idempotent helpers
// (create, or replace on 409; delete, absent on 404). Tokens never appear in errors.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { TransientError } from '../domain/index.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

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
  private constructor(
    private readonly kc: KubeConfig,
    readonly context: string,
  ) {}

  /** From a kubeconfig YAML (a new cluster's, from its provider). */
  static fromYaml(yaml: string): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    return new KubeClient(kc, kc.getCurrentContext());
  }

  /**
   * From a named context (the devops cluster) of the kubeconfig files listed in `kubeconfig`
   * (KUBECONFIG, colon-separated: the first file holding the context wins) or ~/.kube/config.
   */
  static fromDefault(context: string, kubeconfig?: string): KubeClient {
    const kc = new KubeConfig();
    const files = kubeconfig?.split(':').filter(Boolean) ?? [];
    if (files.length === 0) kc.loadFromDefault();
    for (const file of files) {
      kc.loadFromFile(file);
      if (kc.getContextObject(context)) break;
    }
    if (!kc.getContextObject(context))
      throw new Error(
        `kube context "${context}" is not in the kubeconfig. To resolve, check DEVOPS_CONTEXT and KUBECONFIG`,
      );
    kc.setCurrentContext(context);
    return new KubeClient(kc, context);
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const url = new URL(path, this.server);
    const options: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload)
      Object.assign(options.headers as object, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { ...options, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* keep the text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out after 30 s')));
      req.on('error', (error) =>
        reject(
          new TransientError(`${this.context}: ${method} ${url.pathname}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** GET; null on 404. */
  async get<T = KubeObject>(path: string): Promise<T | null> {
    const res = await this.request<T>('GET', path);
    if (res.status === 404) return null;
    this.ok(res, 'GET', path);
    return res.body;
  }

  /** Creates the object in `collection`, or replaces it when it exists. */
  async apply(collection: string, object: KubeObject): Promise<'created' | 'replaced'> {
    const created = await this.request('POST', collection, object);
    if (created.status === 201 || created.status === 200) return 'created';
    if (created.status !== 409) this.ok(created, 'POST', collection);
    const path = `${collection}/${encodeURIComponent(object.metadata.name)}`;
    this.ok(await this.request('PUT', path, object), 'PUT', path);
    return 'replaced';
  }

  /** Deletes; 'absent' when it was not there. */
  async remove(path: string): Promise<'deleted' | 'absent'> {
    const res = await this.request('DELETE', path);
    if (res.status === 404) return 'absent';
    this.ok(res, 'DELETE', path);
    return 'deleted';
  }

  private ok(res: { status: number; body: unknown }, method: string, path: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const message = (res.body as { message?: unknown } | null)?.message;
    const text = `${this.context}: ${method} ${path} answered ${res.status}${typeof message === 'string' ? `: ${message}` : ''}`;
    throw res.status >= 500 || res.status === 429
      ? new TransientError(text)
      : new KubeError(text, res.status);
  }
}

export const paths = {
  namespaces: '/api/v1/namespaces',
  secrets: (ns: string) => `/api/v1/namespaces/${ns}/secrets`,
  serviceAccounts: (ns: string) => `/api/v1/namespaces/${ns}/serviceaccounts`,
  services: (ns: string) => `/api/v1/namespaces/${ns}/services`,
  deployments: (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  clusterRoles: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  clusterRoleBindings: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  applicationSets: (ns: string) => `/apis/argoproj.io/v1alpha1/namespaces/${ns}/applicationsets`,
};
