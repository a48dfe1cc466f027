// What the badge and the status bar count, kept current at the lowest cost the service allows. With
// `watchAttention` (the engine) every target is followed through its record only — one ConfigMap watch
// per (context, namespace) — and a full snapshot is held only for runs in progress, whose merged
// description the status-bar tooltip shows. A service without it (older engines, test doubles) falls
// back to holding a full snapshot watch on every target, as before. Free of `vscode` so it is unit-tested.
import type { AttentionEntry, RolloutService } from '../../engine/api';
import { Emitter, type Disposable } from '../model/events';
import { fingerprint, type SnapshotStore } from '../model/snapshotStore';
import { targetKey, type ResolvedTarget } from '../model/targets';
import { summarize, summarizeAttention, type Summary } from './summary';

export class AttentionTracker implements Disposable {
  /** Full snapshot holds: every target (fallback) or the active ones (attention stream). */
  private holds = new Map<string, Disposable>();
  private targets: ResolvedTarget[] = [];
  private mode: 'none' | 'attention' | 'snapshots' = 'none';
  private stream: Disposable | undefined;
  /** What the open stream was opened for: re-opened only when a target's pipeline or place changes. */
  private signature = '';
  private entries: { target: ResolvedTarget; waitsForHuman: boolean; active: boolean }[] = [];
  /** Bumped on every (re)subscription so a late service or stream callback is ignored. */
  private generation = 0;
  private disposed = false;
  private readonly emitter = new Emitter<void>();
  private readonly storeSub: Disposable;
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly getService: () => Promise<RolloutService>,
    private readonly store: SnapshotStore,
  ) {
    // Counts in fallback mode and tooltips in both modes come from the store's snapshots.
    this.storeSub = store.onDidChange(() => this.emitter.fire());
  }

  /** Follows exactly these targets (the workspace's, after every deploy-file change). */
  setTargets(targets: readonly ResolvedTarget[]): void {
    this.targets = [...targets];
    const signature = signatureOf(this.targets);
    if (this.mode === 'attention' && signature === this.signature) return;
    this.subscribe(signature);
  }

  /** The service changed (sandbox, kubeconfig): its streams are gone, subscribe to the new one. */
  resetService(): void {
    this.subscribe(signatureOf(this.targets));
  }

  get summary(): Summary {
    return this.mode === 'attention' ? summarizeAttention(this.entries) : summarize(this.store.snapshots());
  }

  private subscribe(signature: string): void {
    const generation = ++this.generation;
    this.stream?.dispose();
    this.stream = undefined;
    this.getService().then(
      (service) => {
        if (this.disposed || generation !== this.generation) return;
        if (!service.watchAttention) return this.holdAll();
        this.mode = 'attention';
        this.signature = signature;
        const byTarget = new Map<unknown, ResolvedTarget>();
        const requests = this.targets.map((t) => {
          const r = { pipeline: t.pipelineModel, environment: t.environment };
          byTarget.set(r, t);
          return r;
        });
        this.stream = service.watchAttention(requests, (entries) => {
          if (generation === this.generation) this.onEntries(entries, byTarget);
        });
      },
      // No service (engine failed to start): the store reports why on every target it is asked for.
      () => !this.disposed && generation === this.generation && this.holdAll(),
    );
  }

  private onEntries(entries: readonly AttentionEntry[], byTarget: Map<unknown, ResolvedTarget>): void {
    this.entries = [];
    for (const e of entries) {
      const target = byTarget.get(e.target);
      if (target) this.entries.push({ target, waitsForHuman: e.waitsForHuman, active: e.active });
    }
    this.hold(this.entries.filter((e) => e.active).map((e) => e.target));
    this.emitter.fire();
  }

  private holdAll(): void {
    this.mode = 'snapshots';
    this.signature = '';
    this.entries = [];
    this.hold(this.targets);
    this.emitter.fire();
  }

  /** Holds a full snapshot of exactly these targets. */
  private hold(targets: readonly ResolvedTarget[]): void {
    const keys = new Set(targets.map(targetKey));
    for (const [key, d] of this.holds) {
      if (!keys.has(key)) {
        d.dispose();
        this.holds.delete(key);
      }
    }
    for (const t of targets) {
      const key = targetKey(t);
      if (!this.holds.has(key)) this.holds.set(key, this.store.acquire(t));
    }
  }

  /** For tests and benchmarks: the targets whose full snapshot this holds. */
  heldKeys(): string[] {
    return [...this.holds.keys()];
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.stream?.dispose();
    for (const d of this.holds.values()) d.dispose();
    this.holds.clear();
    this.storeSub.dispose();
    this.emitter.dispose();
  }
}

/** Targets by key and pipeline model (without source ranges: the store's fingerprint). */
function signatureOf(targets: readonly ResolvedTarget[]): string {
  return JSON.stringify(targets.map((t) => [targetKey(t), fingerprint(t)]));
}
