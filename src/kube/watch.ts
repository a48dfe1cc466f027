// A watch-backed cache (informer): list once, then watch from the list's resourceVersion for as long as
// it is wanted. Only a 410 Expired (the server no longer has the history since our version) costs a
// relist, whose difference to the cache is emitted as events. Every other end of a stream resumes the
// watch from the last version seen (an event's or a bookmark's): the server closing it at timeoutSeconds,
// a proxy or load balancer cutting it, a network error. A watch that cannot be re-established is reported
// and retried with backoff, still from its version. client-node's informer stops for good on some
// errors; this one never does until disposed.
import { KubeError, type KubeObject, type WatchEvent, type WatchHandle } from '../engine/ports';
import type { KubeHttp, StreamHandle } from './http';
import { collectionPath, resourceName, type ResourceInfo } from './resources';

export interface InformerOptions {
  /**
   * Server-side watch timeout; the informer resumes after it. With jitter (the default) each watch asks
   * for a random duration in [timeoutSeconds, 2 × timeoutSeconds), as client-go's reflector does, so
   * thousands of watches started together do not all renew in the same second.
   */
  timeoutSeconds?: number;
  jitter?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Random numbers in [0, 1) for the jitter (tests make it predictable). */
  random?: () => number;
}

export const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;

/** The timeoutSeconds one watch request asks for. */
export function watchTimeoutSeconds(opts: InformerOptions): number {
  const base = opts.timeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
  if (opts.jitter === false) return base;
  return base + Math.floor((opts.random ?? Math.random)() * base);
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
  const minBackoff = opts.minBackoffMs ?? 250;
  let rv = '';
  let disposed = false;
  let stream: StreamHandle | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = minBackoff;
  let quickEnds = 0;
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
  /** Reports a failure and tries `again` after the current backoff (doubled for next time, jittered). */
  const retry = (err: KubeError, again: () => void) => {
    onError?.(err);
    resolveSynced();
    const wait = backoff * (0.75 + 0.5 * Math.random());
    backoff = Math.min(opts.maxBackoffMs ?? 30_000, backoff * 2);
    later(again, wait);
  };
  /** Watch from where the cache is; only a cache that never got its first list has to list. */
  const resume = () => (rv ? watch() : relist());

  async function relist(): Promise<void> {
    if (disposed) return;
    let list: { metadata?: { resourceVersion?: string }; items?: KubeObject[] };
    try {
      list = await http.request({ method: 'GET', path, query: { labelSelector }, describe: { ...describe, verb: 'list' } });
    } catch (err) {
      return retry(err instanceof KubeError ? err : new KubeError(String(err), 'other', 0, true), relist);
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
    backoff = minBackoff;
    resolveSynced();
    watch();
  }

  function watch(): void {
    if (disposed) return;
    let expired = false;
    let opened = false;
    let lines = 0;
    const startedAt = Date.now();
    stream = http.stream(
      path,
      { watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: watchTimeoutSeconds(opts), labelSelector },
      describe,
      (line) => {
        lines++;
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
        const k = keyOf(o);
        if (ev.type === 'DELETED') known.delete(k);
        else known.set(k, o);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') onEvent({ type: ev.type, object: o });
      },
      (err) => {
        stream = undefined;
        if (disposed) return;
        // The server no longer has our version's history: only a relist can tell what changed.
        if (expired || err?.code === 410) return void relist();
        // The watch could not be (re)established (refused, timed out, 403, 5xx...): say so, back off.
        if (err && !opened) return retry(err, resume);
        // Ended by the server at timeoutSeconds, or cut (by a proxy, a network error): resume from the
        // version we have, which costs no list. A stream closed at once again and again slows down
        // instead of spinning.
        quickEnds = lines === 0 && Date.now() - startedAt < 1000 ? quickEnds + 1 : 0;
        if (quickEnds > 3) later(resume, Math.min(5000, 100 * quickEnds));
        else resume();
      },
      undefined,
      () => {
        opened = true;
        backoff = minBackoff;
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
