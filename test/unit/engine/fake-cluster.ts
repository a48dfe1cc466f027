// An in-memory cluster behind the engine's KubeOps port, with a tiny controller that reacts to images the
// way the sandbox does (`-crash`, `-unready`, `-errors`, test images with `-fail`), on a manual clock.
// It lets the state machine, executor and session run end to end in milliseconds, with faults.
import type { ManualClock } from '../../../src/engine/clock';
import { KubeError, type KubeObject, type KubeOps, type ObjRef, type PrometheusTarget, type RequestStats, type WatchEvent, type WatchHandle } from '../../../src/engine/ports';

type Watcher = { apiVersion: string; kind: string; ns?: string; selector?: string; cb: (e: WatchEvent) => void; alive: boolean };

export interface Write {
  seq: number;
  verb: string;
  kind: string;
  name: string;
  object?: KubeObject;
}

const key = (apiVersion: string, kind: string, ns: string | undefined, name: string) => `${apiVersion}|${kind}|${ns ?? ''}|${name}`;
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(',').every((term) => {
    const t = term.trim();
    if (!t) return true;
    const ne = t.indexOf('!=');
    if (ne > 0) return l[t.slice(0, ne)] !== t.slice(ne + 2);
    const eq = t.indexOf('=');
    if (eq > 0) return l[t.slice(0, eq)] === t.slice(eq + 1).replace(/^=/, '');
    if (t.startsWith('!')) return !(t.slice(1) in l);
    return t in l;
  });
}

function hashOf(v: unknown): string {
  const s = JSON.stringify(v);
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(36).slice(0, 8);
}

/** A seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Faults {
  /** Share of requests answered 500/503. */
  errorRate?: number;
  /** Share of updates answered 409 Conflict. */
  conflictRate?: number;
  /** Watches are cut (and must be restarted by the caller) every N events. */
  cutWatchEvery?: number;
}

export class FakeCluster implements KubeOps {
  readonly context = 'fake';
  readonly server = 'memory://fake';
  objects = new Map<string, KubeObject>();
  writes: Write[] = [];
  faults: Faults = {};
  private rv = 1;
  private watchers: Watcher[] = [];
  private counts: RequestStats = { total: 0, byVerb: {} };
  private random: () => number;
  private tickTimer: unknown;
  private eventsSinceCut = 0;
  /** Ready pods appear this long after a Deployment changes (simulated start-up). */
  startupMs = 2000;
  jobMs = 3000;
  private changedAt = new Map<string, number>();
  /**
   * Requests (and 5xx among them) a track answered in the last minute, as Prometheus would count them:
   * the request-count query returns `requests`, the success rate follows from both. A track not listed
   * gets 600 requests a minute and its image's success rate.
   */
  traffic: Record<string, { requests: number; errors: number }> = {};

  constructor(readonly clock: ManualClock, seed = 1) {
    this.random = rng(seed);
    this.scheduleTick();
  }

  private scheduleTick() {
    this.tickTimer = this.clock.setTimeout(() => {
      this.tick();
      this.scheduleTick();
    }, 500);
  }

  stats(): RequestStats {
    return { total: this.counts.total, byVerb: { ...this.counts.byVerb } };
  }

  private async call(verb: string, write = false): Promise<void> {
    this.counts.total++;
    this.counts.byVerb[verb] = (this.counts.byVerb[verb] ?? 0) + 1;
    await Promise.resolve();
    const f = this.faults;
    if (f.errorRate && this.random() < f.errorRate) throw new KubeError(`the server answered 503 to ${verb} (injected fault)`, 'other', 503, true);
    if (write && verb === 'replace' && f.conflictRate && this.random() < f.conflictRate) throw new KubeError('Operation cannot be fulfilled: the object has been modified (injected)', 'conflict', 409, true);
  }

  private emit(type: WatchEvent['type'], obj: KubeObject) {
    for (const w of this.watchers) {
      if (!w.alive || w.apiVersion !== obj.apiVersion || w.kind !== obj.kind) continue;
      if (w.ns && w.ns !== obj.metadata.namespace) continue;
      if (!matches(obj.metadata.labels, w.selector)) continue;
      w.cb({ type, object: clone(obj) });
    }
  }

  private put(obj: KubeObject, verb: string, record = true): KubeObject {
    const k = key(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const prev = this.objects.get(k);
    const next = clone(obj);
    next.metadata.resourceVersion = String(++this.rv);
    next.metadata.uid = prev?.metadata.uid ?? `uid-${this.rv}`;
    next.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? new Date(this.clock.now()).toISOString();
    const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(next.spec);
    next.metadata.generation = (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    if (prev && next.status === undefined) next.status = prev.status;
    if (!prev && obj.kind !== 'Pod' && obj.kind !== 'ReplicaSet') next.status = obj.kind === 'Deployment' ? {} : next.status;
    this.objects.set(k, next);
    if (obj.kind === 'Deployment' && specChanged) this.changedAt.set(k, this.clock.now());
    if (record) this.writes.push({ seq: this.writes.length + 1, verb, kind: obj.kind, name: obj.metadata.name, object: clone(next) });
    this.emit(prev ? 'MODIFIED' : 'ADDED', next);
    return clone(next);
  }

  private remove(k: string, verb: string) {
    const prev = this.objects.get(k);
    if (!prev) return;
    this.objects.delete(k);
    this.writes.push({ seq: this.writes.length + 1, verb, kind: prev.kind, name: prev.metadata.name });
    this.emit('DELETED', prev);
    // Cascade: pods and replica sets owned by a deployment.
    if (prev.kind === 'Deployment' || prev.kind === 'Job') {
      for (const [ok, o] of [...this.objects]) {
        if (o.metadata.namespace !== prev.metadata.namespace) continue;
        if ((o.metadata.labels?.['fake/owner'] ?? '') === `${prev.kind}/${prev.metadata.name}`) {
          this.objects.delete(ok);
          this.emit('DELETED', o);
        }
      }
    }
  }

  async get(ref: ObjRef): Promise<KubeObject | undefined> {
    await this.call('get');
    return clone(this.objects.get(key(ref.apiVersion, ref.kind, ref.namespace, ref.name)));
  }

  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KubeObject[]> {
    await this.call('list');
    return [...this.objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && (!namespace || o.metadata.namespace === namespace) && matches(o.metadata.labels, labelSelector)).map(clone);
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    await this.call('create', true);
    const k = key(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (this.objects.has(k)) throw new KubeError(`${obj.kind} ${obj.metadata.name} already exists`, 'alreadyExists', 409, false);
    return this.put({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } }, 'create');
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    await this.call('replace', true);
    const k = key(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const prev = this.objects.get(k);
    if (!prev) throw new KubeError(`${obj.kind} ${obj.metadata.name} not found`, 'notFound', 404, false);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== prev.metadata.resourceVersion) throw new KubeError(`${obj.kind} ${obj.metadata.name}: the object has been modified`, 'conflict', 409, true);
    return this.put({ ...obj, status: prev.status }, 'replace');
  }

  async mergePatch(ref: ObjRef, patch: unknown): Promise<KubeObject> {
    await this.call('patch', true);
    const k = key(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const prev = this.objects.get(k);
    if (!prev) throw new KubeError(`${ref.kind} ${ref.name} not found`, 'notFound', 404, false);
    const merge = (a: unknown, b: unknown): unknown => {
      if (b === null) return undefined;
      if (typeof b !== 'object' || Array.isArray(b) || typeof a !== 'object' || a === null || Array.isArray(a)) return clone(b);
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [kk, v] of Object.entries(b as Record<string, unknown>)) {
        const m = merge(out[kk], v);
        if (m === undefined) delete out[kk];
        else out[kk] = m;
      }
      return out;
    };
    return this.put(merge(clone(prev), patch) as KubeObject, 'patch');
  }

  /** Server-side apply, approximated like the sandbox: create, or merge the applied fields in. */
  applies: { fieldManager: string; force: boolean; kind: string; name: string }[] = [];
  async apply(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject> {
    this.applies.push({ fieldManager, force, kind: obj.kind, name: obj.metadata.name });
    const ref = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
    if (!this.objects.has(key(ref.apiVersion, ref.kind, ref.namespace, ref.name))) return this.create(obj);
    const { apiVersion: _a, kind: _k, ...rest } = obj;
    return this.mergePatch(ref, rest);
  }

  async jsonPatch(ref: ObjRef, ops: unknown[]): Promise<KubeObject> {
    await this.call('patch', true);
    const k = key(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const prev = this.objects.get(k);
    if (!prev) throw new KubeError(`${ref.kind} ${ref.name} not found`, 'notFound', 404, false);
    const next = clone(prev) as unknown as Record<string, unknown>;
    for (const op of ops as { op: string; path: string; value: unknown }[]) {
      const parts = op.path.split('/').slice(1);
      let cur: Record<string, unknown> = next;
      for (const p of parts.slice(0, -1)) {
        const nxt = cur[p] as Record<string, unknown> | undefined;
        if (nxt === undefined) throw new KubeError(`json patch path ${op.path} does not exist`, 'invalid', 422, false);
        cur = nxt;
      }
      const last = parts[parts.length - 1];
      if (op.op === 'replace' && !(last in cur)) throw new KubeError(`json patch: ${op.path} does not exist`, 'invalid', 422, false);
      cur[last] = clone(op.value);
    }
    return this.put(next as unknown as KubeObject, 'patch');
  }

  async delete(ref: ObjRef): Promise<void> {
    await this.call('delete', true);
    this.remove(key(ref.apiVersion, ref.kind, ref.namespace, ref.name), 'delete');
  }

  async deleteAll(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<number> {
    await this.call('deletecollection', true);
    let n = 0;
    for (const [k, o] of [...this.objects]) {
      if (o.apiVersion === apiVersion && o.kind === kind && o.metadata.namespace === namespace && matches(o.metadata.labels, labelSelector)) {
        this.remove(k, 'delete');
        n++;
      }
    }
    return n;
  }

  async podLog(namespace: string, pod: string): Promise<string> {
    await this.call('log');
    const p = this.objects.get(key('v1', 'Pod', namespace, pod));
    const image = p?.spec?.containers?.[0]?.image ?? '';
    return image.includes('-fail') ? 'running smoke test\nGET /healthz -> 500\nFAIL: expected 200' : 'running smoke test\nGET /healthz -> 200\nPASS';
  }

  async prometheus(_t: PrometheusTarget, query: string): Promise<unknown> {
    await this.call('prometheus');
    const track = /kube_delivery_dev_track="([^"]+)"/.exec(query)?.[1];
    const ns = /namespace="([^"]+)"/.exec(query)?.[1];
    const dep = [...this.objects.values()].find((o) => o.kind === 'Deployment' && o.metadata.namespace === ns && o.spec?.template?.metadata?.labels?.['kube-delivery.dev/track'] === track);
    if (!dep || !(dep.status?.readyReplicas > 0)) return { status: 'success', data: { resultType: 'vector', result: [] } };
    const image: string = dep.spec.template.spec.containers[0].image;
    const traffic = track ? this.traffic[track] : undefined;
    let v: number;
    if (/increase\(http_requests_total/.test(query)) v = traffic?.requests ?? 600;
    else if (query.includes('histogram_quantile')) v = image.includes('-slow') ? 900 : 40;
    else if (traffic) v = (100 * (traffic.requests - traffic.errors)) / traffic.requests;
    else v = image.includes('-errors') ? 91.2 : 99.9;
    if (!Number.isFinite(v)) return { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [this.clock.now() / 1000, 'NaN'] }] } };
    return { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [this.clock.now() / 1000, String(v)] }] } };
  }

  watch(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string | undefined, onEvent: (e: WatchEvent) => void, _onError?: (err: KubeError) => void, _onRecover?: () => void): WatchHandle {
    // A real informer relists after a cut; emulate that: on a cut, replay the current state as ADDED/DELETED.
    const w: Watcher = { apiVersion, kind, ns: namespace, selector: labelSelector, cb: (e) => onEvent(e), alive: true };
    this.counts.total++;
    this.counts.byVerb.watch = (this.counts.byVerb.watch ?? 0) + 1;
    const seen = new Set<string>();
    w.cb = (e) => {
      if (e.type === 'DELETED') seen.delete(e.object.metadata.name);
      else seen.add(e.object.metadata.name);
      onEvent(e);
      if (this.faults.cutWatchEvery && ++this.eventsSinceCut >= this.faults.cutWatchEvery) {
        this.eventsSinceCut = 0;
        // cut: the next events are lost until a relist on the next tick
        w.alive = false;
        this.clock.setTimeout(() => {
          if (!w.alive && !(w as { disposed?: boolean }).disposed) {
            this.counts.total++;
            w.alive = true;
            const now = [...this.objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && (!namespace || o.metadata.namespace === namespace) && matches(o.metadata.labels, labelSelector));
            const names = new Set(now.map((o) => o.metadata.name));
            for (const n of [...seen]) if (!names.has(n)) onEvent({ type: 'DELETED', object: { apiVersion, kind, metadata: { name: n, namespace } } });
            for (const o of now) onEvent({ type: 'ADDED', object: clone(o) });
          }
        }, 300);
      }
    };
    this.watchers.push(w);
    for (const o of this.objects.values()) {
      if (o.apiVersion === apiVersion && o.kind === kind && (!namespace || o.metadata.namespace === namespace) && matches(o.metadata.labels, labelSelector)) w.cb({ type: 'ADDED', object: clone(o) });
    }
    return {
      synced: Promise.resolve(),
      dispose: () => {
        w.alive = false;
        (w as { disposed?: boolean }).disposed = true;
        this.watchers = this.watchers.filter((x) => x !== w);
      },
    };
  }

  dispose(): void {
    this.clock.clearTimeout(this.tickTimer);
  }

  // ---- the controller ----

  private tick(): void {
    const now = this.clock.now();
    for (const [k, d] of [...this.objects]) {
      if (d.kind === 'Deployment') this.reconcileDeployment(k, d, now);
      if (d.kind === 'Job') this.reconcileJob(d, now);
    }
  }

  private reconcileDeployment(k: string, d: KubeObject, now: number): void {
    const ns = d.metadata.namespace!;
    const name = d.metadata.name;
    const tmpl = d.spec.template;
    const hash = hashOf(tmpl);
    const image: string = tmpl.spec.containers[0].image;
    const desired: number = d.spec.replicas ?? 1;
    const sinceChange = now - (this.changedAt.get(k) ?? 0);
    const crash = image.includes('-crash');
    const unready = image.includes('-unready');
    const up = sinceChange >= this.startupMs;
    const ready = crash || unready ? 0 : up ? desired : 0;
    // ReplicaSet for the current template (Istio subsets read its hash).
    const rsName = `${name}-${hash}`;
    const rsKey = key('apps/v1', 'ReplicaSet', ns, rsName);
    if (!this.objects.has(rsKey)) {
      const rev = String(Number(d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) + 1);
      this.put({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: rsName, namespace: ns, labels: { ...(tmpl.metadata?.labels ?? {}), 'pod-template-hash': hash, 'fake/owner': `Deployment/${name}` }, annotations: { 'deployment.kubernetes.io/revision': rev }, ownerReferences: [{ kind: 'Deployment', name, uid: d.metadata.uid, controller: true }] }, spec: {} }, 'controller', false);
      d = this.put({ ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': rev } } }, 'controller', false);
    }
    // Pods: current template only (old ones vanish once new are up, or at once when crashing).
    const podsWanted = desired;
    for (const [pk, p] of [...this.objects]) {
      if (p.kind !== 'Pod' || p.metadata.labels?.['fake/owner'] !== `Deployment/${name}` || p.metadata.namespace !== ns) continue;
      if (p.metadata.labels?.['pod-template-hash'] !== hash && (up || crash || unready)) {
        this.objects.delete(pk);
        this.emit('DELETED', p);
      }
    }
    const mine = [...this.objects.values()].filter((p) => p.kind === 'Pod' && p.metadata.namespace === ns && p.metadata.labels?.['pod-template-hash'] === hash && p.metadata.labels?.['fake/owner'] === `Deployment/${name}`);
    for (let i = mine.length; i < podsWanted; i++) {
      this.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${rsName}-${i}${hashOf(now + i).slice(0, 3)}`, namespace: ns, labels: { ...(tmpl.metadata?.labels ?? {}), 'pod-template-hash': hash, 'fake/owner': `Deployment/${name}` }, ownerReferences: [{ kind: 'ReplicaSet', name: rsName }] }, spec: { containers: [{ image }] }, status: {} }, 'controller', false);
    }
    for (const p of [...this.objects.values()].filter((p) => p.kind === 'Pod' && p.metadata.namespace === ns && p.metadata.labels?.['pod-template-hash'] === hash && p.metadata.labels?.['fake/owner'] === `Deployment/${name}`)) {
      const idx = mine.indexOf(p);
      if (idx >= podsWanted) {
        this.objects.delete(key('v1', 'Pod', ns, p.metadata.name));
        this.emit('DELETED', p);
        continue;
      }
      const restarts = crash ? Math.floor(sinceChange / 1000) : 0;
      const status = { containerStatuses: [{ image, ready: ready > 0, restartCount: restarts, state: crash && restarts >= 2 ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} } }] };
      if (JSON.stringify(p.status) !== JSON.stringify(status)) this.put({ ...p, status }, 'controller', false);
    }
    const status = {
      observedGeneration: d.metadata.generation,
      replicas: desired,
      updatedReplicas: desired,
      readyReplicas: ready,
      availableReplicas: ready,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    };
    if (JSON.stringify(d.status) !== JSON.stringify(status)) this.put({ ...d, status }, 'controller', false);
  }

  private reconcileJob(j: KubeObject, now: number): void {
    if (j.status?.succeeded || j.status?.failed) return;
    const ns = j.metadata.namespace!;
    const image: string = j.spec.template.spec.containers[0].image;
    const podName = `${j.metadata.name}-pod`;
    if (!this.objects.has(key('v1', 'Pod', ns, podName))) {
      this.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns, labels: { ...(j.spec.template.metadata?.labels ?? {}), 'fake/owner': `Job/${j.metadata.name}` } }, spec: { containers: [{ image }] }, status: {} }, 'controller', false);
    }
    const started = Date.parse(j.metadata.creationTimestamp ?? '') || now;
    if (image.includes('-hang')) return;
    if (now - started < this.jobMs) return;
    const fail = image.includes('-fail');
    const status = fail ? { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } : { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };
    this.put({ ...j, status }, 'controller', false);
  }

  /** Router writes recorded so far (VirtualService/HTTPRoute/canary Ingress/Service selector/replicas patches). */
  routerWrites(): Write[] {
    return this.writes.filter((w) => ['VirtualService', 'HTTPRoute', 'Ingress'].includes(w.kind) || (w.kind === 'Service' && w.verb === 'patch') || (w.kind === 'Deployment' && w.verb === 'patch'));
  }
}
