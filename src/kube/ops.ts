// KubeOps over HTTP: the engine's cluster port, implemented with the kubeconfig handling of
// @kubernetes/client-node (loaded only here) and a small REST client with timeouts and watches.
import type { KubeObject, KubeOps, ObjRef, PrometheusTarget, RequestStats, WatchEvent, WatchHandle } from '../engine/ports';
import { KubeError } from '../engine/ports';
import { loadKubeconfig, type KubeconfigSource } from './config';
import { DEFAULT_TIMEOUT_MS, KubeHttp } from './http';
import { collectionPath, objectPath, resourceName, resourceOf, type ResourceInfo } from './resources';
import { informer } from './watch';

export interface ConnectOptions extends KubeconfigSource {
  timeoutMs?: number;
}

export type ConnectResult = { ok: true; ops: HttpKubeOps } | { ok: false; message: string };

export function connect(opts: ConnectOptions): ConnectResult {
  const loaded = loadKubeconfig(opts);
  if (!loaded.ok) return loaded;
  const { kc, context, server } = loaded.value;
  return { ok: true, ops: new HttpKubeOps(new KubeHttp(kc, { context, server }), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) };
}

function info(apiVersion: string, kind: string): ResourceInfo {
  const r = resourceOf(apiVersion, kind);
  if (!r) throw new KubeError(`Kube Delivery does not know the kind ${kind} (${apiVersion}); it cannot be applied`, 'invalid', 0, false);
  return r;
}

export class HttpKubeOps implements KubeOps {
  readonly context: string;
  readonly server: string;
  constructor(
    readonly http: KubeHttp,
    private readonly timeoutMs: number,
  ) {
    this.context = http.context;
    this.server = http.server;
  }

  private d(verb: string, r: ResourceInfo, namespace?: string, name?: string, kind?: string) {
    return { verb, resource: resourceName(r), namespace: r.namespaced ? namespace : undefined, name, kind };
  }

  async get(ref: ObjRef): Promise<KubeObject | undefined> {
    const r = info(ref.apiVersion, ref.kind);
    try {
      const o = await this.http.request<KubeObject>({ method: 'GET', path: objectPath(r, ref.namespace, ref.name), timeoutMs: this.timeoutMs, describe: this.d('get', r, ref.namespace, ref.name, ref.kind) });
      return { ...o, apiVersion: ref.apiVersion, kind: ref.kind };
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'notFound') return undefined;
      throw err;
    }
  }

  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KubeObject[]> {
    const r = info(apiVersion, kind);
    const l = await this.http.request<{ items?: KubeObject[] }>({ method: 'GET', path: collectionPath(r, namespace), query: { labelSelector }, timeoutMs: this.timeoutMs, describe: this.d('list', r, namespace) });
    return (l.items ?? []).map((o) => ({ ...o, apiVersion, kind }));
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const r = info(obj.apiVersion, obj.kind);
    return this.http.request<KubeObject>({ method: 'POST', path: collectionPath(r, obj.metadata.namespace), body: obj, timeoutMs: this.timeoutMs, describe: this.d('create', r, obj.metadata.namespace, obj.metadata.name, obj.kind) });
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    const r = info(obj.apiVersion, obj.kind);
    return this.http.request<KubeObject>({ method: 'PUT', path: objectPath(r, obj.metadata.namespace, obj.metadata.name), body: obj, timeoutMs: this.timeoutMs, describe: this.d('update', r, obj.metadata.namespace, obj.metadata.name, obj.kind) });
  }

  async mergePatch(ref: ObjRef, patch: unknown): Promise<KubeObject> {
    const r = info(ref.apiVersion, ref.kind);
    return this.http.request<KubeObject>({ method: 'PATCH', path: objectPath(r, ref.namespace, ref.name), body: patch, contentType: 'application/merge-patch+json', timeoutMs: this.timeoutMs, describe: this.d('patch', r, ref.namespace, ref.name, ref.kind) });
  }

  async jsonPatch(ref: ObjRef, ops: unknown[]): Promise<KubeObject> {
    const r = info(ref.apiVersion, ref.kind);
    return this.http.request<KubeObject>({ method: 'PATCH', path: objectPath(r, ref.namespace, ref.name), body: ops, contentType: 'application/json-patch+json', timeoutMs: this.timeoutMs, describe: this.d('patch', r, ref.namespace, ref.name, ref.kind) });
  }

  async apply(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject> {
    const r = info(obj.apiVersion, obj.kind);
    // JSON is YAML: the applied configuration goes as JSON text under the apply media type.
    return this.http.request<KubeObject>({ method: 'PATCH', path: objectPath(r, obj.metadata.namespace, obj.metadata.name), query: { fieldManager, force }, body: obj, contentType: 'application/apply-patch+yaml', timeoutMs: this.timeoutMs, describe: this.d('patch', r, obj.metadata.namespace, obj.metadata.name, obj.kind) });
  }

  async delete(ref: ObjRef): Promise<void> {
    const r = info(ref.apiVersion, ref.kind);
    try {
      await this.http.request({ method: 'DELETE', path: objectPath(r, ref.namespace, ref.name), body: { propagationPolicy: 'Background' }, timeoutMs: this.timeoutMs, describe: this.d('delete', r, ref.namespace, ref.name, ref.kind) });
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'notFound') return;
      throw err;
    }
  }

  async deleteAll(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<number> {
    const items = await this.list(apiVersion, kind, namespace, labelSelector);
    for (const o of items) await this.delete({ apiVersion, kind, namespace, name: o.metadata.name });
    return items.length;
  }

  async podLog(namespace: string, pod: string, tailLines: number): Promise<string> {
    const r = info('v1', 'Pod');
    const text = await this.http.request<string>({ method: 'GET', path: `${objectPath(r, namespace, pod)}/log`, query: { tailLines }, accept: 'text/plain', timeoutMs: this.timeoutMs, describe: { verb: 'get', resource: 'pods/log', namespace, name: pod, kind: 'Pod' } });
    return typeof text === 'string' ? text : JSON.stringify(text);
  }

  async prometheus(target: PrometheusTarget, query: string, timeSec: number): Promise<unknown> {
    const q = { query, time: timeSec.toFixed(3) };
    if (target.url) {
      const u = new URL(target.url.replace(/\/+$/, '') + '/api/v1/query');
      for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
      let res: Response;
      try {
        res = await fetch(u, { signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        throw new KubeError(`cannot reach Prometheus at ${target.url}: ${(err as Error).message}`, 'other', 0, true);
      }
      return res.json();
    }
    const s = target.service ?? { namespace: 'monitoring', name: 'prometheus', port: 9090 };
    return this.http.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(s.namespace)}/services/${encodeURIComponent(`${s.name}:${s.port}`)}/proxy/api/v1/query`,
      query: q,
      timeoutMs: this.timeoutMs,
      acceptStatus: [400, 422, 503],
      describe: { verb: 'get', resource: 'services/proxy', namespace: s.namespace, name: `${s.name}:${s.port}`, kind: 'Service' },
    });
  }

  watch(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string | undefined, onEvent: (e: WatchEvent) => void, onError?: (err: KubeError) => void, onRecover?: () => void): WatchHandle {
    return informer(this.http, info(apiVersion, kind), apiVersion, kind, namespace, labelSelector, onEvent, onError, {}, onRecover);
  }

  /**
   * Reads the sandbox's clock if this cluster is a Kube Delivery sandbox (/admin/clock). Only plain http
   * or a loopback address is asked: a remote production cluster never sees the probe.
   */
  async sandboxClock(): Promise<{ now: number; speed: number; manual: boolean } | undefined> {
    if (!mayBeSandbox(this.server)) return undefined;
    try {
      const c = await this.http.request<{ now?: number; speed?: number; manual?: boolean }>({ method: 'GET', path: '/admin/clock', timeoutMs: 3000, describe: { verb: 'get', resource: 'admin/clock' } });
      if (typeof c?.now === 'number') return { now: c.now, speed: typeof c.speed === 'number' ? c.speed : 1, manual: Boolean(c.manual) };
    } catch {}
    return undefined;
  }

  stats(): RequestStats {
    return this.http.stats();
  }

  dispose(): void {
    this.http.dispose();
  }
}

/** A server URL the sandbox could be behind: plain http, or https on a loopback address (`--tls`). */
export function mayBeSandbox(server: string): boolean {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    return false;
  }
  if (u.protocol === 'http:') return true;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return u.protocol === 'https:' && (host === 'localhost' || host === '::1' || /^127\./.test(host));
}
