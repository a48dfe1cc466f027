// Shared test plumbing: a bare sandbox API server on a free port, a kubeconfig for it, and
// condition waits with deadlines (no sleeps).
import { Store, createApiServer, kubeconfigYaml, type ApiServer, type ApiServerOptions, type StoreOptions } from '../../../../src/sandbox/api/index';

export interface Harness {
  store: Store;
  api: ApiServer;
  url: string;
  kubeconfig: string;
  close(): Promise<void>;
}

export async function startBare(opts: { store?: StoreOptions; server?: Omit<ApiServerOptions, 'store'>; namespaces?: string[] } = {}): Promise<Harness> {
  const store = new Store(opts.store);
  for (const name of opts.namespaces ?? ['default']) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const api = createApiServer({ store, ...(opts.server ?? {}) });
  const url = await api.listen(0);
  return { store, api, url, kubeconfig: kubeconfigYaml(url), close: () => api.close() };
}

/** Resolves once `check` returns a truthy value; rejects with `what` after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | null, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
}
