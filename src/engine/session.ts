// One pipeline in one environment, live: watch-backed caches of the record, the Lease and the app's
// objects; a snapshot on every change; and, when this session holds the Lease, the driver loop that
// advances the run with the pure state machine. Other sessions observe and forward requests through
// the record; any session takes over when the Lease expires.
import { delay, type Clock } from './clock';
import { PartlyDoneError, type EffectError, type EffectResult } from './effects';
import type { Weights } from '../deployfile/model';
import { sameWeights } from './weights';
import { execute } from './executor';
import { deploymentFactsOf, jobFactsOf, podsPerDeployment, type Facts } from './facts';
import { canTake, leaseObject, leaseState, releasedLease } from './lease';
import { complete, decide, fail, newRun, request, startRollback } from './machine';
import { LABEL, ownedLabels, type Plan } from './plan';
import { KubeError, type KubeObject, type KubeOps, type WatchHandle } from './ports';
import { RECORD_KEY, archive, emptyDoc, isTerminal, mergeForWrite, parseDoc, serializeDoc, type RecordDoc, type RequestAction, type RunRecord } from './record';
import type { RolloutSnapshot } from './snapshot';
import { buildSnapshot, viewError } from './view';

export const DEFAULT_LEASE_MS = 15_000;

export interface SessionOptions {
  plan: Plan;
  ops: KubeOps;
  clock: Clock;
  /** Who this session is, in the Lease and events ("cli:host:pid"). */
  identity: string;
  leaseDurationMs?: number;
  /** May this session drive (hold the Lease)? False for read-only views. */
  canDrive?: boolean;
  newRunId?: () => string;
  log?: (message: string) => void;
  /** Test hook: called after every record write the driver makes (to kill a driver at any point). */
  onPersist?: (doc: RecordDoc) => void;
}

type Queued = { action: RequestAction; actor: string; test?: string; resolve: (r: { ok: true } | { ok: false; reason: string }) => void };

export type ActOutcome = { ok: true } | { ok: false; code: 'notAllowed' | 'conflict' | 'unreachable' | 'forbidden' | 'notFound' | 'invalid' | 'other'; message: string };

let counter = 0;
const defaultRunId = (now: number) => `${now.toString(36)}${(++counter).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(-12);

export function toActError(err: unknown): ActOutcome & { ok: false } {
  if (err instanceof KubeError) {
    const code = err.kind === 'alreadyExists' ? 'conflict' : err.kind === 'timeout' ? 'unreachable' : err.kind;
    return { ok: false, code, message: err.message };
  }
  return { ok: false, code: 'other', message: err instanceof Error ? err.message : String(err) };
}

function effectError(err: unknown): EffectError {
  if (err instanceof PartlyDoneError) return { ...effectError(err.failure), done: err.done };
  if (err instanceof KubeError) {
    const kind = err.kind === 'alreadyExists' ? 'conflict' : err.kind === 'timeout' ? 'unreachable' : err.kind;
    return { transient: err.transient, message: err.message, kind };
  }
  return { transient: false, message: err instanceof Error ? err.message : String(err), kind: 'other' };
}

export class RolloutSession {
  readonly plan: Plan;
  private readonly ops: KubeOps;
  private readonly clock: Clock;
  private readonly me: string;
  private readonly leaseMs: number;
  private doc: RecordDoc;
  private rv?: string;
  private deployments = new Map<string, KubeObject>();
  private pods = new Map<string, KubeObject>();
  private jobs = new Map<string, KubeObject>();
  private lease?: KubeObject;
  private watches: WatchHandle[] = [];
  private listeners = new Set<(s: RolloutSnapshot) => void>();
  private seq = 0;
  private lastEmitted = '';
  private emitScheduled = false;
  private driving = false;
  private loopRunning = false;
  private queue: Queued[] = [];
  private wake?: () => void;
  private renewTimer?: unknown;
  private takeoverTimer?: unknown;
  private retryTimer?: unknown;
  private heldUntil = 0;
  private factsCache?: Facts;
  private inEffect = false;
  private directRoute?: { runId: string; weights: Weights; sent: Promise<EffectResult> };
  private disposed = false;
  /** handOver() asked this session to stop driving for good (it only observes from then on). */
  private handingOver = false;
  /** Every watch has listed: before that, the Lease cache may be empty only because it is not listed yet. */
  private synced = false;
  /** maybeDrive's attempt to take the Lease, while in flight (handOver waits for it). */
  private acquiring?: Promise<void>;
  private error?: RolloutSnapshot['error'];
  private opened?: Promise<void>;
  private stopController = new AbortController();
  /** Resolves when the driver loop ends (run finished, lease lost or disposed). */
  loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SessionOptions) {
    this.plan = opts.plan;
    this.ops = opts.ops;
    this.clock = opts.clock;
    this.me = opts.identity;
    // The default lease lasts 15 s of real time: a sped-up clock (sandbox --speed) must not make it so
    // short that a busy machine loses it between renewals.
    const speed = (opts.clock as { speed?: number }).speed;
    this.leaseMs = opts.leaseDurationMs ?? DEFAULT_LEASE_MS * Math.max(1, speed && Number.isFinite(speed) ? speed : 1);
    this.doc = emptyDoc(opts.plan.pipeline);
  }

  /** Driving, and the lease this session last wrote has not expired. */
  get isDriver(): boolean {
    return this.driving && this.clock.now() < this.heldUntil;
  }
  get record(): RecordDoc {
    return this.doc;
  }
  /** The engine's time for this session (a sandbox may run faster than the wall clock). */
  now(): number {
    return this.clock.now();
  }

  /** Starts the watches and waits for their first lists. */
  open(): Promise<void> {
    this.opened ??= this.doOpen();
    return this.opened;
  }

  private async doOpen(): Promise<void> {
    const ns = this.plan.namespace;
    // Watches whose last word was an error. A watch that re-opens without news (nothing changed while
    // it was cut) says so through onRecover; once none is failing, the error leaves the snapshot.
    const failing = new Set<string>();
    const onErr = (kind: string) => (err: KubeError) => {
      failing.add(kind);
      this.error = viewError(err);
      this.changed();
    };
    const onRecover = (kind: string) => () => {
      failing.delete(kind);
      if (failing.size === 0 && this.error) {
        this.error = undefined;
        this.changed();
      }
    };
    const ok = () => {
      if (this.error) this.error = undefined;
    };
    const track = (map: Map<string, KubeObject>) => (e: { type: string; object: KubeObject }) => {
      ok();
      this.factsCache = undefined;
      if (e.type === 'DELETED') map.delete(e.object.metadata.name);
      else map.set(e.object.metadata.name, e.object);
      this.changed();
    };
    this.watches.push(this.ops.watch('apps/v1', 'Deployment', ns, undefined, track(this.deployments), onErr('Deployment'), onRecover('Deployment')));
    this.watches.push(this.ops.watch('v1', 'Pod', ns, undefined, track(this.pods), onErr('Pod'), onRecover('Pod')));
    this.watches.push(this.ops.watch('batch/v1', 'Job', ns, `${LABEL.pipeline}=${this.plan.pipeline}`, track(this.jobs), onErr('Job'), onRecover('Job')));
    this.watches.push(
      this.ops.watch('v1', 'ConfigMap', ns, `${LABEL.pipeline}=${this.plan.pipeline}`, (e) => {
        ok();
        if (e.object.metadata.name !== this.plan.names.record) return;
        this.onRecord(e.type === 'DELETED' ? undefined : e.object);
      }, onErr('ConfigMap'), onRecover('ConfigMap')),
    );
    this.watches.push(
      this.ops.watch('coordination.k8s.io/v1', 'Lease', ns, `${LABEL.pipeline}=${this.plan.pipeline}`, (e) => {
        ok();
        if (e.object.metadata.name !== this.plan.names.lease) return;
        this.lease = e.type === 'DELETED' ? undefined : e.object;
        this.onLease();
      }, onErr('Lease'), onRecover('Lease')),
    );
    await Promise.all(this.watches.map((w) => w.synced));
    this.synced = true;
    this.changed();
    this.maybeDrive();
  }

  // ---------- caches -> facts / snapshot ----------

  /** Facts from the caches, recomputed only after a watch event changed them. */
  facts(): Facts {
    this.factsCache ??= this.computeFacts();
    return this.factsCache;
  }

  private computeFacts(): Facts {
    const pods = [...this.pods.values()];
    const deployments: Facts['deployments'] = {};
    for (const d of this.deployments.values()) deployments[d.metadata.name] = deploymentFactsOf(d, this.plan.app.container, pods);
    const jobs: Facts['jobs'] = {};
    for (const j of this.jobs.values()) jobs[j.metadata.name] = jobFactsOf(j);
    return { deployments, jobs, pods: podsPerDeployment(pods) };
  }

  snapshot(): RolloutSnapshot {
    const ls = leaseState(this.lease);
    const now = this.clock.now();
    const driver = ls && ls.holder ? { holder: ls.holder, renewedAt: new Date(ls.renewedAt).toISOString(), expiresAt: new Date(ls.expiresAt).toISOString(), self: ls.holder === this.me } : undefined;
    return buildSnapshot({ plan: this.plan, doc: this.doc, facts: this.facts(), now, seq: this.seq, driver, error: this.error });
  }

  subscribe(listener: (s: RolloutSnapshot) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot());
    return () => this.listeners.delete(listener);
  }

  /** Something changed: wake the driver, and emit a snapshot if what views see differs. */
  private changed(): void {
    this.wake?.();
    if (this.emitScheduled || this.listeners.size === 0) return;
    this.emitScheduled = true;
    // After pending I/O callbacks: never delays a request the driver is about to send.
    setImmediate(() => {
      this.emitScheduled = false;
      const s = this.snapshot();
      const key = JSON.stringify({ ...s, seq: 0, updatedAt: '', driver: s.driver?.holder });
      if (key === this.lastEmitted) return;
      this.lastEmitted = key;
      s.seq = ++this.seq;
      for (const l of this.listeners) l(s);
    });
  }

  private onRecord(cm: KubeObject | undefined): void {
    const parsed = parseDoc(this.plan.pipeline, cm?.data, `ConfigMap ${this.plan.namespace}/${this.plan.names.record}`);
    if (!parsed.ok) {
      this.error = { kind: 'invalid', message: parsed.message };
      this.changed();
      return;
    }
    if (this.driving) {
      // Our own run is authoritative; take only new requests from others.
      this.doc = { ...this.doc, requests: mergeForWrite(this.doc, parsed.doc).requests };
    } else {
      this.doc = parsed.doc;
      this.rv = cm?.metadata.resourceVersion;
    }
    this.changed();
    this.maybeDrive();
  }

  private onLease(): void {
    this.changed();
    if (this.driving) {
      const st = leaseState(this.lease);
      if (st && st.holder !== this.me) this.loseLease(`the lease was taken by ${st.holder}`);
      return;
    }
    this.maybeDrive();
  }

  // ---------- lease ----------

  private leaseRef() {
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.plan.namespace, name: this.plan.names.lease };
  }

  /** Takes the lease if it is free, expired or ours. */
  async acquire(): Promise<boolean> {
    const now = this.clock.now();
    let cur: KubeObject | undefined;
    try {
      cur = await this.ops.get(this.leaseRef());
    } catch (err) {
      this.opts.log?.(`lease read failed: ${(err as Error).message}`);
      return false;
    }
    if (!canTake(cur, this.me, now)) {
      this.lease = cur;
      this.scheduleTakeover();
      return false;
    }
    const obj = leaseObject(this.plan.names.lease, this.plan.namespace, ownedLabels(this.plan), this.me, now, this.leaseMs, cur);
    try {
      this.lease = cur ? await this.ops.replace(obj) : await this.ops.create(obj);
    } catch (err) {
      if (err instanceof KubeError && (err.kind === 'conflict' || err.kind === 'alreadyExists')) return false;
      this.opts.log?.(`lease write failed: ${(err as Error).message}`);
      return false;
    }
    this.driving = true;
    this.heldUntil = now + this.leaseMs;
    this.scheduleRenew();
    return true;
  }

  private scheduleRenew(inMs?: number): void {
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = this.clock.setTimeout(() => {
      this.renewTimer = undefined;
      void this.renew();
    }, inMs ?? Math.max(100, Math.floor(this.leaseMs / 3)));
  }

  private async renew(): Promise<void> {
    if (!this.driving || this.disposed) return;
    const now = this.clock.now();
    let renewed = false;
    try {
      const cur = this.lease && leaseState(this.lease)?.holder === this.me ? this.lease : await this.ops.get(this.leaseRef());
      if (!canTake(cur, this.me, now)) return this.loseLease(`the lease is held by ${leaseState(cur)?.holder}`);
      this.lease = await this.ops.replace(leaseObject(this.plan.names.lease, this.plan.namespace, ownedLabels(this.plan), this.me, now, this.leaseMs, cur));
      this.heldUntil = now + this.leaseMs;
      renewed = true;
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'conflict') {
        // Someone else wrote it: re-read once and decide.
        try {
          const cur = await this.ops.get(this.leaseRef());
          this.lease = cur;
          if (!canTake(cur, this.me, this.clock.now())) return this.loseLease(`the lease was taken by ${leaseState(cur)?.holder}`);
        } catch {}
      }
    }
    // A lease we could not renew in time is no longer ours to act on.
    if (this.driving && this.clock.now() >= this.heldUntil - Math.floor(this.leaseMs / 6)) return this.loseLease('the lease could not be renewed in time');
    if (this.driving) this.scheduleRenew(renewed ? undefined : Math.max(50, Math.floor(this.leaseMs / 12)));
  }

  private loseLease(why: string): void {
    if (!this.driving) return;
    this.opts.log?.(`stopped driving: ${why}`);
    this.driving = false;
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    this.wake?.();
    this.scheduleTakeover();
  }

  private async release(): Promise<void> {
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (!this.driving) return;
    this.driving = false;
    try {
      const cur = await this.ops.get(this.leaseRef());
      if (cur && leaseState(cur)?.holder === this.me) this.lease = await this.ops.replace(releasedLease(cur, this.clock.now()));
    } catch {}
  }

  private scheduleTakeover(): void {
    if (this.takeoverTimer !== undefined || this.disposed || this.opts.canDrive === false) return;
    const st = leaseState(this.lease);
    if (!st) return;
    const wait = Math.max(50, st.expiresAt - this.clock.now() + 50);
    this.takeoverTimer = this.clock.setTimeout(() => {
      this.takeoverTimer = undefined;
      this.maybeDrive();
    }, wait);
  }

  /** After a failed attempt to take the lease (network, conflict), try again soon. */
  private retryDriveLater(): void {
    if (this.retryTimer !== undefined || this.disposed) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.maybeDrive();
    }, Math.max(50, Math.floor(this.leaseMs / 5)));
  }

  /** Becomes the driver if a run is active and nobody live drives it. */
  maybeDrive(): void {
    // Not before every watch listed: a record seen before the Lease would look like a run nobody drives,
    // and a client standing by would ask the API server for the Lease just to find it held.
    if (!this.synced || this.disposed || this.handingOver || this.driving || this.loopRunning || this.acquiring || this.opts.canDrive === false) return;
    const cur = this.doc.current;
    if (!cur || isTerminal(cur.phase)) return;
    if (!canTake(this.lease, this.me, this.clock.now())) {
      this.scheduleTakeover();
      return;
    }
    const attempt = this.acquire().then((ok) => {
      this.acquiring = undefined;
      // Taken while handing over: handOver releases it (no loop to start).
      if (ok && !this.handingOver) this.startLoop();
      else if (!ok) this.retryDriveLater();
    });
    this.acquiring = attempt;
  }

  // ---------- record persistence ----------

  private async readRecord(): Promise<{ doc: RecordDoc; rv?: string }> {
    const cm = await this.ops.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: this.plan.namespace, name: this.plan.names.record });
    const parsed = parseDoc(this.plan.pipeline, cm?.data, `ConfigMap ${this.plan.namespace}/${this.plan.names.record}`);
    if (!parsed.ok) throw new KubeError(parsed.message, 'invalid', 422, false);
    return { doc: parsed.doc, rv: cm?.metadata.resourceVersion };
  }

  private configMap(doc: RecordDoc, rv: string | undefined): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.plan.names.record, namespace: this.plan.namespace, labels: ownedLabels(this.plan), ...(rv ? { resourceVersion: rv } : {}) },
      data: { [RECORD_KEY]: serializeDoc(doc) },
    };
  }

  /** Writes the record with optimistic concurrency: on 409 re-read, merge others' requests, retry. */
  private async persist(): Promise<void> {
    let attempt = 0;
    for (;;) {
      try {
        const cm = this.rv ? await this.ops.replace(this.configMap(this.doc, this.rv)) : await this.ops.create(this.configMap(this.doc, undefined));
        this.rv = cm.metadata.resourceVersion;
        this.opts.onPersist?.(this.doc);
        return;
      } catch (err) {
        if (!(err instanceof KubeError)) throw err;
        attempt++;
        if ((err.kind === 'conflict' || err.kind === 'alreadyExists') && attempt < 50) {
          const theirs = await this.readRecordRetrying();
          const advancedByOther = theirs.doc.current && this.doc.current && theirs.doc.current.runId === this.doc.current.runId && theirs.doc.current.effectSeq > this.doc.current.effectSeq;
          if (!this.isDriver || advancedByOther) {
            this.doc = theirs.doc;
            this.rv = theirs.rv;
            this.loseLease(advancedByOther ? 'another driver advanced the run' : 'the lease is no longer ours');
            throw new KubeError('this client no longer drives the run', 'conflict', 409, false);
          }
          if (theirs.doc.current && this.doc.current && theirs.doc.current.runId !== this.doc.current.runId && !isTerminal(theirs.doc.current.phase)) {
            // Another driver started a different run: we no longer own the record.
            this.doc = theirs.doc;
            this.rv = theirs.rv;
            this.loseLease('another run replaced ours in the record');
            throw new KubeError('another driver replaced the run in the record', 'conflict', 409, false);
          }
          this.doc = mergeForWrite(this.doc, theirs.doc);
          this.rv = theirs.rv;
          continue;
        }
        if (err.transient && attempt < 30 && !this.disposed) {
          await delay(this.clock, Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), this.stopController.signal);
          continue;
        }
        throw err;
      }
    }
  }

  private async readRecordRetrying(): Promise<{ doc: RecordDoc; rv?: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.readRecord();
      } catch (err) {
        if (err instanceof KubeError && err.transient && attempt < 30 && !this.disposed) {
          await delay(this.clock, Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), this.stopController.signal);
          continue;
        }
        throw err;
      }
    }
  }

  // ---------- actions ----------

  /** Starts a new run (this session drives it). */
  async start(image: string, actor: string, opts: { drive?: boolean } = {}): Promise<ActOutcome> {
    await this.open();
    let fresh: { doc: RecordDoc; rv?: string };
    try {
      fresh = await this.readRecordRetrying();
    } catch (err) {
      return toActError(err);
    }
    if (fresh.doc.current && !isTerminal(fresh.doc.current.phase)) return { ok: false, code: 'notAllowed', message: `a run of ${fresh.doc.current.image} is in progress (${fresh.doc.current.reason}); abort it first` };
    let got = this.driving;
    for (let attempt = 0; !got && attempt < 10; attempt++) {
      got = await this.acquire();
      // Held by a live driver: no point retrying. A failed read/write (5xx, 409): try again shortly.
      if (got || !canTake(this.lease, this.me, this.clock.now())) break;
      await delay(this.clock, Math.max(20, Math.floor(this.leaseMs / 50)) * (attempt + 1), this.stopController.signal);
    }
    if (!got) {
      const st = leaseState(this.lease);
      return { ok: false, code: 'notAllowed', message: `${st?.holder ?? 'another client'} holds the lease of ${this.plan.pipeline}; try again when it expires` };
    }
    const now = this.clock.now();
    const runId = this.opts.newRunId?.() ?? defaultRunId(now);
    this.doc = { ...archive(fresh.doc), current: newRun(this.plan, { runId, image, actor, now }), requests: [] };
    this.rv = fresh.rv;
    try {
      await this.persist();
    } catch (err) {
      await this.release();
      return toActError(err);
    }
    this.changed();
    if (opts.drive === false) await this.release();
    else this.startLoop();
    return { ok: true };
  }

  /**
   * Re-runs a test of the current stage as a new Job. Like promote: the driver executes it; an observer
   * asks through the record (the driver may live in another process).
   */
  rerunTest(test: string, actor: string): Promise<ActOutcome> {
    return this.act('rerunTest', actor, test);
  }

  /** promote / promoteFull / abort / pause / resume / rerunTest. */
  async act(action: RequestAction, actor: string, test?: string): Promise<ActOutcome> {
    await this.open();
    if (!this.driving && !this.loopRunning && !this.handingOver && this.doc.current && !isTerminal(this.doc.current.phase) && canTake(this.lease, this.me, this.clock.now()) && this.opts.canDrive !== false) {
      // Nobody live drives: this session executes the request itself (abort is always safe to run).
      if (await this.acquire()) {
        try {
          const fresh = await this.readRecordRetrying();
          this.doc = fresh.doc;
          this.rv = fresh.rv;
        } catch (err) {
          await this.release();
          return toActError(err);
        }
        this.startLoop();
      }
    }
    if (this.driving) {
      if (action === 'abort') this.abortFast(actor);
      return new Promise((resolve) => {
        this.queue.push({ action, actor, test, resolve: (r) => resolve(r.ok ? r : { ok: false, code: 'notAllowed', message: r.reason }) });
        this.wake?.();
      });
    }
    return this.appendRequest(action, actor, test);
  }

  /** An observer's request: appended to the record for the driver to execute. */
  private async appendRequest(action: RequestAction, actor: string, test?: string): Promise<ActOutcome> {
    for (let attempt = 0; attempt < 20; attempt++) {
      let fresh: { doc: RecordDoc; rv?: string };
      try {
        fresh = await this.readRecordRetrying();
      } catch (err) {
        return toActError(err);
      }
      const cur = fresh.doc.current;
      if (!cur || isTerminal(cur.phase)) return { ok: false, code: 'notAllowed', message: 'no run in progress' };
      const check = request(this.plan, cur, action, actor, this.clock.now(), test);
      if (!check.ok) return { ok: false, code: 'notAllowed', message: check.reason };
      const id = Math.max(cur.lastRequest, ...fresh.doc.requests.map((r) => r.id)) + 1;
      const doc: RecordDoc = { ...fresh.doc, requests: [...fresh.doc.requests, { id, action, actor, at: this.clock.now(), ...(test !== undefined ? { test } : {}) }] };
      try {
        await this.ops.replace(this.configMap(doc, fresh.rv));
        return { ok: true };
      } catch (err) {
        if (err instanceof KubeError && err.kind === 'conflict') continue;
        return toActError(err);
      }
    }
    return { ok: false, code: 'conflict', message: 'the record kept changing (20 conflicts in a row); try again' };
  }

  // ---------- the driver loop ----------

  private startLoop(): void {
    if (this.loopRunning) return;
    this.loopRunning = true;
    this.loopDone = this.loop()
      .catch((err) => {
        this.opts.log?.(`driver stopped: ${(err as Error).message}`);
        this.error = err instanceof KubeError ? viewError(err) : { kind: 'other', message: (err as Error).message };
      })
      .finally(async () => {
        for (const q of this.queue.splice(0)) q.resolve({ ok: false, reason: 'this client stopped driving; try again' });
        // Never hold the lease without driving: let another client (or a later retry here) take over.
        const cur = this.doc.current;
        if (this.driving && cur && !isTerminal(cur.phase) && !this.disposed && !this.handingOver) {
          await this.release().catch(() => undefined);
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.maybeDrive();
          }, 2000);
        }
        this.loopRunning = false;
        this.changed();
        this.maybeDrive();
      });
  }

  private setRec(rec: RunRecord): void {
    this.doc = { ...this.doc, current: rec };
    this.changed();
  }

  /** Applies queued local requests and requests others stored in the record. Returns the callers to
   * answer once the result is persisted. */
  private applyRequests(): ((written: boolean) => void)[] {
    let rec = this.doc.current;
    const answers: ((written: boolean) => void)[] = [];
    if (!rec) {
      for (const q of this.queue.splice(0)) answers.push(() => q.resolve({ ok: false, reason: 'no run in progress' }));
      return answers;
    }
    let dirty = false;
    const now = this.clock.now();
    for (const r of this.doc.requests) {
      if (r.id <= rec.lastRequest) continue;
      const out = request(this.plan, rec, r.action, r.actor, now, r.test);
      rec = out.ok ? out.rec : { ...rec, events: [...rec.events, { at: new Date(now).toISOString(), type: 'Warning', reason: 'RequestIgnored', message: `${r.action}${r.test ? ` ${r.test}` : ''} by ${r.actor} ignored: ${out.reason}` }] };
      rec = { ...rec, lastRequest: r.id };
      dirty = true;
    }
    for (const q of this.queue.splice(0)) {
      const out = request(this.plan, rec, q.action, q.actor, now, q.test);
      if (out.ok) {
        rec = out.rec;
        dirty = true;
      }
      answers.push((written) => q.resolve(!out.ok ? { ok: false, reason: out.reason } : written ? { ok: true } : { ok: false, reason: 'the record could not be written; try again' }));
    }
    if (dirty) this.setRec(rec);
    return answers;
  }

  private async loop(): Promise<void> {
    let persisted = '';
    const answers: ((written: boolean) => void)[] = [];
    const answer = (written = true) => {
      for (const a of answers.splice(0)) a(written);
    };
    const persistIfChanged = async () => {
      const key = JSON.stringify(this.doc.current) + JSON.stringify(this.doc.requests.length);
      if (key !== persisted) {
        await this.persist();
        persisted = JSON.stringify(this.doc.current) + JSON.stringify(this.doc.requests.length);
      }
      answer();
    };
    // The watch may lag: drive from what the cluster holds now, never from a stale copy.
    // Anything this session had not persisted is not durable and is redone from the record.
    const fresh = await this.readRecordRetrying();
    this.doc = fresh.doc;
    this.rv = fresh.rv;
    try {
      await this.driveSteps(answers, persistIfChanged);
    } catch (err) {
      answer(false);
      throw err;
    }
    answer();
    if (this.driving) {
      const cur = this.doc.current;
      if (!cur || isTerminal(cur.phase)) await this.release();
    }
  }

  private async driveSteps(answers: ((written: boolean) => void)[], persistIfChanged: () => Promise<void>): Promise<void> {
    let updates = 0;
    while (this.driving && !this.disposed && !this.handingOver) {
      // A request is answered once the record holds it: at the next write (for an abort, that write
      // goes out together with the router write that restores traffic).
      answers.push(...this.applyRequests());
      const rec = this.doc.current;
      if (!rec) break;
      const now = this.clock.now();
      const d = decide(this.plan, rec, this.facts(), now);
      if (d.kind === 'idle') {
        this.doc = archive(this.doc);
        await persistIfChanged();
        break;
      }
      if (d.kind === 'update') {
        // A state machine bug must not spin the event loop: stop loudly instead.
        if (++updates > 500) throw new Error(`internal: the state machine did not settle (step ${d.rec.step}, stage ${d.rec.stage})`);
        this.setRec(d.rec);
        continue;
      }
      updates = 0;
      if (d.kind === 'wait') {
        this.setRec(d.rec);
        await persistIfChanged();
        if (this.queue.length || this.doc.requests.some((r) => r.id > (this.doc.current?.lastRequest ?? 0))) continue;
        await this.sleep(d.wakeAt);
        continue;
      }
      // An effect: recorded as pending BEFORE it runs, its result AFTER.
      this.setRec(d.rec);
      const e = d.effect;
      const ctx = { plan: this.plan, rec: d.rec, ops: this.ops, facts: this.facts(), now };
      let result: Awaited<ReturnType<typeof execute>> | undefined;
      let error: unknown;
      const direct = this.directRoute;
      this.directRoute = undefined;
      const reuse = direct && e.kind === 'route' && direct.runId === d.rec.runId && sameWeights(direct.weights, e.weights);
      const run = () => {
        this.inEffect = true;
        return (reuse ? direct.sent : execute(ctx, e)).then(
          (r) => void (result = r),
          (err) => void (error = err),
        ).finally(() => (this.inEffect = false));
      };
      if (e.kind === 'route' && d.rec.outcome) {
        // Rollback: the write that restores traffic goes out together with the record write (one round
        // trip to safety); a restart finds it pending and repeats it, which is harmless.
        const sent = run();
        // The router write already went out (abort fast path): let it land before the record write
        // competes with it; the abort is answered only after both.
        if (reuse) await sent;
        await Promise.all([persistIfChanged(), sent]);
      } else {
        await persistIfChanged();
        if (!this.isDriver) break;
        await run();
      }
      const after = this.doc.current ?? d.rec;
      const next = error === undefined ? complete(this.plan, after, e, result!, this.clock.now()) : fail(this.plan, after, e, effectError(error), this.clock.now());
      this.setRec(next);
      await persistIfChanged();
    }
    // Handing over: what was decided since the last write (an 'update') goes to the record before the
    // Lease does, so the next driver goes on from there.
    if (this.handingOver && this.isDriver && !this.disposed) await persistIfChanged();
  }

  /**
   * Abort while the driver is idle (waiting at a gate): send the router write that restores traffic at
   * once, without waiting for the loop to come round; the loop then records that write as the rollback's
   * route effect instead of sending it again. Only when no effect is in flight, so no forward write can
   * land after it (the loop applies the queued abort before deciding anything else).
   */
  private abortFast(actor: string): void {
    const rec = this.doc.current;
    // Idle = no effect on its way (the loop may be sleeping or writing the record of a wait).
    if (this.inEffect || !rec || rec.pending || this.directRoute || !this.loopRunning) return;
    const now = this.clock.now();
    const out = request(this.plan, rec, 'abort', actor, now);
    if (!out.ok) return;
    const d = decide(this.plan, out.rec, this.facts(), now);
    if (d.kind !== 'effect' || d.effect.kind !== 'route') return;
    const ctx = { plan: this.plan, rec: d.rec, ops: this.ops, facts: this.facts(), now };
    const sent = execute(ctx, d.effect);
    sent.catch(() => undefined);
    this.directRoute = { runId: rec.runId, weights: d.effect.weights, sent };
  }

  private sleep(wakeAt: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: unknown;
      const done = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      if (wakeAt !== undefined) timer = this.clock.setTimeout(done, Math.max(0, wakeAt - this.clock.now()));
      if (!this.driving || this.disposed || this.handingOver) done();
    });
  }

  /** For tests and the CLI: resolves when a predicate on the snapshot holds (or the deadline passes). */
  waitFor(pred: (s: RolloutSnapshot) => boolean, signal?: AbortSignal): Promise<RolloutSnapshot | undefined> {
    return new Promise((resolve) => {
      const now = this.snapshot();
      if (pred(now)) return resolve(now);
      let off = () => {};
      const onAbort = () => {
        off();
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      off = this.subscribe((s) => {
        if (pred(s)) {
          off();
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        }
      });
    });
  }

  /**
   * Stops driving for good, the clean way: the step in flight finishes and is recorded (a run waiting at
   * a gate has nothing in flight), then the Lease is released so a client standing by takes the run over
   * at once instead of after the Lease expires. A client leaving (a CLI that returns at a manual gate, a
   * promote that executed its request itself) calls this before dispose; the session only observes after.
   */
  async handOver(): Promise<void> {
    this.handingOver = true;
    if (this.takeoverTimer !== undefined) this.clock.clearTimeout(this.takeoverTimer);
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.takeoverTimer = this.retryTimer = undefined;
    this.wake?.();
    // A Lease being taken right now (maybeDrive) starts a loop that stops at once: wait for it too.
    await this.acquiring;
    await this.loopDone;
    await this.release();
  }

  /** Stops everything without touching the cluster (a killed driver; the lease then expires). */
  kill(): void {
    this.disposed = true;
    this.driving = false;
    this.stopController.abort();
    this.wake?.();
    for (const w of this.watches) w.dispose();
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    if (this.takeoverTimer !== undefined) this.clock.clearTimeout(this.takeoverTimer);
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.listeners.clear();
  }

  /**
   * Stops and releases the lease if held. The watches and timers stop at once (a watch left running
   * while the release is in flight would re-open on a connection about to be closed); the returned
   * promise resolves once the release has landed or failed. Not the clean way: a step in flight is not
   * recorded (its next driver repeats it, effects are idempotent); handOver first records it.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    // release() clears `driving` before its first await, so kill() below cannot stop it half-way.
    const releasing = this.driving ? this.release().catch(() => undefined) : undefined;
    this.kill();
    await releasing;
  }

  /** Directly marks the run for rollback without waiting on a driver (used when a driver is wedged). */
  forceRollbackRecord(reason: string): RunRecord | undefined {
    const cur = this.doc.current;
    if (!cur) return undefined;
    return startRollback(cur, this.clock.now(), { phase: 'aborted', reason });
  }
}
