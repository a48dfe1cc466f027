// A watch-backed cache (informer): one streaming watch that sends the current state first and then the
// changes (sendInitialEvents, "watch-list", Kubernetes 1.27+; on by default from 1.32), or where the
// server refuses that, a LIST and then a watch from the list's resourceVersion. It lasts for as long as it
// is wanted. Only a 410 Expired (the server no longer has the history since our version) costs a
// re-sync, whose difference to the cache is emitted as events. Every other end of a stream resumes the
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
  /**
   * Sync with one streaming watch (sendInitialEvents=true) instead of LIST + watch: one request and one
   * round trip per informer instead of two, which is what opening 1,500 targets waited on. Default true;
   * a server that refuses it (400/422: older than 1.27, or the feature off) or ignores it (a plain
   * bookmark, or the stream ends, before the initial-events-end bookmark) gets LIST + watch from then on,
   * and so do the other informers of the same connection.
   */
  watchList?: boolean;
  /** Silence while waiting for the initial state's end marker after which the server is taken to ignore watch-list. */
  initialEventsTimeoutMs?: number;
}

/** The bookmark annotation that ends a watch-list's initial events. */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

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
  onRecover?: () => void,
): WatchHandle {
  const known = new Map<string, KubeObject>();
  const minBackoff = opts.minBackoffMs ?? 250;
  let rv = '';
  let disposed = false;
  let stream: StreamHandle | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = minBackoff;
  let quickEnds = 0;
  let incompleteSyncs = 0;
  // A failure was reported and no stream has opened since: the next one that opens tells the listener.
  let failing = false;
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
    failing = true;
    onError?.(err);
    resolveSynced();
    const wait = backoff * (0.75 + 0.5 * Math.random());
    backoff = Math.min(opts.maxBackoffMs ?? 30_000, backoff * 2);
    later(again, wait);
  };
  /** Watch from where the cache is; only a cache that never got its first state has to sync. */
  const resume = () => (rv ? watch(false) : sync());

  async function relist(): Promise<void> {
    if (disposed) return;
    let list: { metadata?: { resourceVersion?: string }; items?: KubeObject[] };
    try {
      list = await http.request({ method: 'GET', path, query: { labelSelector }, describe: { ...describe, verb: 'list' } });
    } catch (err) {
      return retry(err instanceof KubeError ? err : new KubeError(String(err), 'other', 0, true), relist);
    }
    if (disposed) return;
    applySync(list.items ?? [], list.metadata?.resourceVersion ?? '');
    watch(false);
  }

  /** The full state as of `version`: emit what differs from the cache (a first sync: everything). */
  function applySync(items: KubeObject[], version: string): void {
    const seen = new Set<string>();
    for (const raw of items) {
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
    rv = version;
    backoff = minBackoff;
    incompleteSyncs = 0;
    resolveSynced();
  }

  const watchListOn = () => opts.watchList !== false && http.watchListSupported !== false;
  /** (Re)builds the cache from the server's current state. */
  const sync = () => (watchListOn() ? watch(true) : void relist());

  /** A watch from `rv`, or with `initial` one that first streams the current state (watch-list). */
  function watch(initial: boolean, slot?: () => void): void {
    if (disposed) return slot?.();
    // Streaming the initial state costs the server what a LIST does: it waits for a read slot like one
    // (held until the end marker), so thousands of informers starting together are paced, not a storm.
    if (initial && !slot) {
      void http.acquireRead().then((release) => (disposed ? release() : watch(true, release)));
      return;
    }
    let expired = false;
    let opened = false;
    let ignored = false;
    let lines = 0;
    // The initial state as it streams in; applied as a whole at the end marker, like a list.
    let fresh = initial ? new Map<string, KubeObject>() : undefined;
    const startedAt = Date.now();
    const timeoutSeconds = watchTimeoutSeconds(opts);
    // A server that ignores sendInitialEvents sends the objects (rv unset) and then nothing: no marker
    // after a while of silence means none is coming.
    const silenceMs = opts.initialEventsTimeoutMs ?? 10_000;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const awaitMarker = () => {
      if (silence) clearTimeout(silence);
      if (!fresh || disposed) return;
      const armedAt = Date.now();
      const linesAtArm = lines;
      silence = setTimeout(() => {
        // A timer that fires late means this process was busy: its sockets may hold lines it has not
        // read yet. Look again later, and only after the pending I/O (setImmediate runs after it).
        if (Date.now() - armedAt > silenceMs + 1000) return awaitMarker();
        setImmediate(() => {
          if (!fresh || disposed || lines !== linesAtArm) return;
          ignored = true;
          handle.abort();
        });
      }, silenceMs);
      silence.unref?.();
    };
    const query = initial
      ? { watch: 'true', sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true', timeoutSeconds, labelSelector }
      : { watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds, labelSelector };
    const handle = http.stream(
      path,
      query,
      describe,
      (line) => {
        lines++;
        if (fresh) awaitMarker();
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
        if (fresh) {
          // Kept as received: applySync stamps apiVersion and kind on each object, as for a list's items.
          const raw = ev.object;
          if (ev.type === 'BOOKMARK') {
            if (raw?.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true') {
              const items = [...fresh.values()];
              fresh = undefined;
              if (silence) clearTimeout(silence);
              slot?.();
              applySync(items, raw.metadata.resourceVersion ?? '');
            } else {
              // A plain bookmark first: the server watches without sending the initial state marker.
              ignored = true;
              handle.abort();
            }
            return;
          }
          const k = keyOf(raw);
          if (ev.type === 'DELETED') fresh.delete(k);
          else fresh.set(k, raw);
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
        if (silence) clearTimeout(silence);
        slot?.();
        if (stream === handle) stream = undefined;
        if (disposed) return;
        // The server refused or ignored the watch-list: LIST + watch, for every informer of this connection.
        if (fresh && (ignored || (err && !opened && err.kind === 'invalid'))) {
          http.watchListSupported = false;
          return void relist();
        }
        // The server no longer has our version's history: only a fresh state can tell what changed.
        if (expired || err?.code === 410) return sync();
        // The watch could not be (re)established (refused, timed out, 403, 5xx...): say so, back off.
        // A stream that ended before its initial state was complete starts that state again; one cut
        // twice in a row (something between us and the server ends long streams) gets a LIST instead.
        if (fresh && ++incompleteSyncs >= 2 && (!err || opened)) {
          incompleteSyncs = 0;
          return void relist();
        }
        const next = fresh ? sync : resume;
        if (err && !opened) return retry(err, next);
        // Ended by the server at timeoutSeconds, or cut (by a proxy, a network error): resume from the
        // version we have, which costs no list. A stream closed at once again and again slows down
        // instead of spinning.
        quickEnds = lines === 0 && Date.now() - startedAt < 1000 ? quickEnds + 1 : 0;
        if (quickEnds > 3) later(next, Math.min(5000, 100 * quickEnds));
        else next();
      },
      undefined,
      () => {
        opened = true;
        backoff = minBackoff;
        if (failing) {
          failing = false;
          onRecover?.();
        }
        awaitMarker();
      },
    );
    stream = handle;
  }

  sync();
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
