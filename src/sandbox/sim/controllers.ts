// The simulated kube-controller-manager: one work queue fed by the store's change feed and by clock
// timers, and the controllers that drain it (Deployment, ReplicaSet, Job, Endpoints) plus the
// kubelet that moves pods through their lifecycle. Controllers read the store and write through it
// exactly like real controllers (status through the status subresource), so everything they do is
// visible to watches, kubectl and the engine.
import type { ChangeEvent, KubeObject, Store } from '../api/store';
import { ApiError } from '../api/errors';
import type { Clock, TimerHandle } from './clock';
import type { BehaviourTable } from './behaviour';
import type { Random } from './random';
import { EventRecorder } from './events';
import { controllerOf } from './k8s';
import { syncDeployment } from './deployment';
import { syncReplicaSet } from './replicaset';
import { syncJob } from './job';
import { syncEndpoints, servicesSelecting } from './endpoints';
import { Kubelet } from './kubelet';

export type WorkKind = 'deployment' | 'replicaset' | 'job' | 'endpoints';

/** Objects indexed by the uid of their controller owner (pods and ReplicaSets). */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Map<string, KubeObject>>();

  update(oldObj: KubeObject | undefined, obj: KubeObject | undefined): void {
    const oldOwner = oldObj ? controllerOf(oldObj)?.uid : undefined;
    const newOwner = obj ? controllerOf(obj)?.uid : undefined;
    const key = (obj ?? oldObj)!.metadata.uid!;
    if (oldOwner && oldOwner !== newOwner) this.remove(oldOwner, key);
    if (newOwner && obj) {
      let m = this.byOwner.get(newOwner);
      if (!m) this.byOwner.set(newOwner, (m = new Map()));
      m.set(key, obj);
    } else if (!obj && oldOwner) this.remove(oldOwner, key);
  }

  owned(ownerUid: string | undefined): KubeObject[] {
    if (!ownerUid) return [];
    const m = this.byOwner.get(ownerUid);
    return m ? [...m.values()] : [];
  }

  private remove(owner: string, key: string): void {
    const m = this.byOwner.get(owner);
    if (!m) return;
    m.delete(key);
    if (m.size === 0) this.byOwner.delete(owner);
  }
}

/** Objects of one kind by namespace, kept from the change feed (the store's list sorts on every call). */
export class NamespaceIndex {
  private readonly byNs = new Map<string, Map<string, KubeObject>>();

  update(oldObj: KubeObject | undefined, obj: KubeObject | undefined): void {
    const o = (obj ?? oldObj)!;
    const ns = o.metadata.namespace ?? '';
    const key = o.metadata.name!;
    if (!obj) {
      const m = this.byNs.get(ns);
      m?.delete(key);
      if (m && m.size === 0) this.byNs.delete(ns);
      return;
    }
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, (m = new Map()));
    m.set(key, obj);
  }

  in(ns: string): Iterable<KubeObject> {
    return this.byNs.get(ns)?.values() ?? [];
  }
}

export interface ControllerFaults {
  /** While true the controllers (and the kubelet) do nothing; work queues up and runs on resume. */
  paused: boolean;
}

export interface ControllerContext {
  store: Store;
  clock: Clock;
  events: EventRecorder;
  behaviour: BehaviourTable;
  random: Random;
  pods: OwnerIndex;
  replicaSets: OwnerIndex;
  /** Pods and Services by namespace. */
  podsByNs: NamespaceIndex;
  servicesByNs: NamespaceIndex;
  enqueue(kind: WorkKind, namespace: string, name: string): void;
  enqueueAfter(kind: WorkKind, namespace: string, name: string, ms: number): void;
  /** Writes pod lifecycle events (Scheduled, Pulled, Started...). Off for large benchmarks. */
  podEvents: boolean;
}

export interface ControllerOptions {
  store: Store;
  clock: Clock;
  behaviour: BehaviourTable;
  random: Random;
  podEvents?: boolean;
  /**
   * When queued work runs: 'microtask' (at once; deterministic with a manual clock) or 'immediate'
   * (next turn of the event loop, so a burst of timer-driven changes — pods of one ReplicaSet starting
   * together — is reconciled in one sync instead of one per pod). Default 'microtask'.
   */
  batching?: 'microtask' | 'immediate';
  /** Called with errors a sync could not handle (default: ignored after a retry is scheduled). */
  onError?: (err: unknown, work: string) => void;
}

const RETRY_MS = 1_000;

export class ControllerManager {
  readonly ctx: ControllerContext;
  readonly kubelet: Kubelet;
  readonly faults: ControllerFaults = { paused: false };
  private readonly queue = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private draining = false;
  private scheduled = false;
  private stopped = false;
  private unsubscribe?: () => void;
  /** Number of syncs run (diagnostics and benchmarks). */
  syncs = 0;

  constructor(private readonly options: ControllerOptions) {
    const { store, clock, behaviour, random } = options;
    this.ctx = {
      store,
      clock,
      behaviour,
      random,
      events: new EventRecorder(store, clock),
      pods: new OwnerIndex(),
      replicaSets: new OwnerIndex(),
      podsByNs: new NamespaceIndex(),
      servicesByNs: new NamespaceIndex(),
      enqueue: (k, ns, n) => this.enqueue(k, ns, n),
      enqueueAfter: (k, ns, n, ms) => this.enqueueAfter(k, ns, n, ms),
      podEvents: options.podEvents ?? true,
    };
    this.kubelet = new Kubelet(this.ctx, () => this.faults.paused);
  }

  start(): void {
    const { store } = this.ctx;
    for (const rs of store.list('replicasets.apps').items) this.ctx.replicaSets.update(undefined, rs);
    for (const p of store.list('pods').items) {
      this.ctx.pods.update(undefined, p);
      this.ctx.podsByNs.update(undefined, p);
    }
    for (const svc of store.list('services').items) this.ctx.servicesByNs.update(undefined, svc);
    this.unsubscribe = store.onChange((e) => this.onChange(e));
    // Reconcile whatever already exists (seeded or created before start).
    for (const d of store.list('deployments.apps').items) this.enqueue('deployment', d.metadata.namespace!, d.metadata.name!);
    for (const rs of store.list('replicasets.apps').items) this.enqueue('replicaset', rs.metadata.namespace!, rs.metadata.name!);
    for (const j of store.list('jobs.batch').items) this.enqueue('job', j.metadata.namespace!, j.metadata.name!);
    for (const s of store.list('services').items) this.enqueue('endpoints', s.metadata.namespace!, s.metadata.name!);
    for (const p of store.list('pods').items) this.kubelet.observe(undefined, p);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const d of this.delayed.values()) this.ctx.clock.clearTimeout(d.handle);
    this.delayed.clear();
    this.kubelet.stop();
  }

  setPaused(paused: boolean): void {
    this.faults.paused = paused;
    if (!paused) {
      this.kubelet.resume();
      this.schedule();
    }
  }

  /** True when no work is queued (timers may still be pending). */
  idle(): boolean {
    return this.queue.size === 0 && !this.draining;
  }

  private onChange(e: ChangeEvent): void {
    if (this.stopped) return;
    const o = e.object;
    const ns = o.metadata.namespace ?? '';
    const gone = e.type === 'DELETED';
    switch (e.resource) {
      case 'deployments.apps':
        if (!gone) this.enqueue('deployment', ns, o.metadata.name!);
        break;
      case 'replicasets.apps': {
        this.ctx.replicaSets.update(e.oldObject, gone ? undefined : o);
        if (!gone) this.enqueue('replicaset', ns, o.metadata.name!);
        const owner = controllerOf(o);
        if (owner?.kind === 'Deployment') this.enqueue('deployment', ns, owner.name);
        break;
      }
      case 'pods': {
        this.ctx.pods.update(e.oldObject, gone ? undefined : o);
        this.ctx.podsByNs.update(e.oldObject, gone ? undefined : o);
        const owner = controllerOf(o);
        if (owner?.kind === 'ReplicaSet') this.enqueue('replicaset', ns, owner.name);
        else if (owner?.kind === 'Job') this.enqueue('job', ns, owner.name);
        for (const svc of servicesSelecting(this.ctx.servicesByNs.in(ns), [e.oldObject, gone ? undefined : o])) this.enqueue('endpoints', ns, svc);
        this.kubelet.observe(e.oldObject, gone ? undefined : o);
        break;
      }
      case 'jobs.batch':
        if (!gone) this.enqueue('job', ns, o.metadata.name!);
        break;
      case 'services':
        this.ctx.servicesByNs.update(e.oldObject, gone ? undefined : o);
        this.enqueue('endpoints', ns, o.metadata.name!);
        break;
      case 'endpoints':
        // Someone else changed (or deleted) an Endpoints object: put ours back if a Service owns it.
        if (e.oldObject && this.ctx.store.tryGet('services', ns, o.metadata.name!)) this.enqueue('endpoints', ns, o.metadata.name!);
        break;
    }
  }

  enqueue(kind: WorkKind, namespace: string, name: string): void {
    if (this.stopped) return;
    this.queue.add(`${kind}\0${namespace}\0${name}`);
    this.schedule();
  }

  enqueueAfter(kind: WorkKind, namespace: string, name: string, ms: number): void {
    if (this.stopped) return;
    const key = `${kind}\0${namespace}\0${name}`;
    const at = this.ctx.clock.now() + Math.max(0, ms);
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) this.ctx.clock.clearTimeout(cur.handle);
    const handle = this.ctx.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.enqueue(kind, namespace, name);
    }, Math.max(0, ms));
    this.delayed.set(key, { at, handle });
  }

  private schedule(): void {
    if (this.scheduled || this.draining || this.faults.paused) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.drain();
    };
    if (this.options.batching === 'immediate') setImmediate(run);
    else queueMicrotask(run);
  }

  private drain(): void {
    if (this.draining || this.stopped || this.faults.paused) return;
    this.draining = true;
    let budget = 5_000;
    try {
      while (this.queue.size && !this.faults.paused && !this.stopped) {
        if (--budget < 0) {
          // Let I/O (HTTP requests, watches) breathe between large batches.
          setImmediate(() => this.drain());
          return;
        }
        const key = this.queue.values().next().value as string;
        this.queue.delete(key);
        const [kind, ns, name] = key.split('\0') as [WorkKind, string, string];
        this.syncs++;
        try {
          this.sync(kind, ns, name);
        } catch (err) {
          // Conflicts and races (object deleted meanwhile) are normal for controllers: retry soon.
          if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) this.options.onError?.(err, key);
          this.enqueueAfter(kind, ns, name, RETRY_MS);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private sync(kind: WorkKind, ns: string, name: string): void {
    switch (kind) {
      case 'deployment':
        return syncDeployment(this.ctx, ns, name);
      case 'replicaset':
        return syncReplicaSet(this.ctx, ns, name);
      case 'job':
        return syncJob(this.ctx, ns, name);
      case 'endpoints':
        return syncEndpoints(this.ctx, ns, name);
    }
  }
}
