// A watch-backed cache (informer): list, then watch from the list's resourceVersion; on a closed stream
// resume from the last seen version, on 410 Expired relist and emit the difference, on errors back off
// and retry until disposed. client-node's informer stops for good on some errors; this one never does.
import { KubeError, type KubeObject, type WatchEvent, type WatchHandle } from '../engine/ports';
import type { KubeHttp, StreamHandle } from './http';
import { collectionPath, resourceName, type ResourceInfo } from './resources';

export interface InformerOptions {
  /** Server-side watch timeout; the informer resumes after it. */
  timeoutSeconds?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function informer(
  http: KubeHttp,
  r: ResourceInfo,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  labelSelector: string | undefined,
  onEvent: (e: WatchEvent) => void,
  onError: ((err: KubeError) => void) | undefined,
  opts: InformerOptions = {},
): WatchHandle {
  const known = new Map<string, KubeObject>();
  let rv = '';
  let disposed = false;
  let stream: StreamHandle | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = opts.minBackoffMs ?? 250;
  let quickCloses = 0;
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => (resolveSynced = r));
  const path = collectionPath(r, namespace);
  const describe = { verb: 'watch', resource: resourceName(r), namespace };
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  const later = (fn: () => void, ms: number) => {
    if (disposed) return;
    timer = setTimeout(fn, ms);
    timer.unref?.();
  };
  const fail = (err: KubeError) => {
    onError?.(err);
    resolveSynced();
    const wait = backoff;
    backoff = Math.min(opts.maxBackoffMs ?? 30_000, backoff * 2);
    later(relist, wait);
  };

  async function relist(): Promise<void> {
    if (disposed) return;
    let list: { metadata?: { resourceVersion?: string }; items?: KubeObject[] };
    try {
      list = await http.request({ method: 'GET', path, query: { labelSelector }, describe: { ...describe, verb: 'list' } });
    } catch (err) {
      return fail(err instanceof KubeError ? err : new KubeError(String(err), 'other', 0, true));
    }
    if (disposed) return;
    const seen = new Set<string>();
    for (const raw of list.items ?? []) {
      const o = { ...raw, apiVersion, kind } as KubeObject;
      const k = keyOf(o);
      seen.add(k);
      const prev = known.get(k);
      known.set(k, o);
      if (!prev) onEvent({ type: 'ADDED', object: o });
      else if (prev.metadata.resourceVersion !== o.metadata.resourceVersion) onEvent({ type: 'MODIFIED', object: o });
    }
    for (const [k, o] of [...known]) {
      if (!seen.has(k)) {
        known.delete(k);
        onEvent({ type: 'DELETED', object: o });
      }
    }
    rv = list.metadata?.resourceVersion ?? '';
    backoff = opts.minBackoffMs ?? 250;
    resolveSynced();
    watch();
  }

  function watch(): void {
    if (disposed) return;
    let expired = false;
    let events = 0;
    const startedAt = Date.now();
    stream = http.stream(
      path,
      { watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: opts.timeoutSeconds ?? 300, labelSelector },
      describe,
      (line) => {
        let ev: { type: string; object: KubeObject & { code?: number; reason?: string } };
        try {
          ev = JSON.parse(line);
        } catch {
          return;
        }
        if (ev.type === 'ERROR') {
          if (ev.object?.code === 410 || ev.object?.reason === 'Expired' || ev.object?.reason === 'Gone') expired = true;
          else onError?.(new KubeError(`watch of ${describe.resource}: ${(ev.object as { message?: string }).message ?? 'error'}`, 'other', ev.object?.code ?? 0, true));
          return;
        }
        const o = { ...ev.object, apiVersion, kind } as KubeObject;
        if (o.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
        if (ev.type === 'BOOKMARK') return;
        events++;
        const k = keyOf(o);
        if (ev.type === 'DELETED') known.delete(k);
        else known.set(k, o);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') onEvent({ type: ev.type, object: o });
      },
      (err) => {
        stream = undefined;
        if (disposed) return;
        if (expired || err?.code === 410) return void relist();
        if (err) return fail(err);
        // A stream the server closes at once again and again: slow down instead of spinning.
        quickCloses = events === 0 && Date.now() - startedAt < 1000 ? quickCloses + 1 : 0;
        if (quickCloses > 3) later(watch, Math.min(5000, 100 * quickCloses));
        else watch();
      },
    );
  }

  void relist();
  return {
    synced,
    dispose: () => {
      disposed = true;
      if (timer) clearTimeout(timer);
      stream?.abort();
      resolveSynced();
    },
  };
}
