// Live rollout snapshots shared by every surface. Subscriptions are reference-counted per target:
// a target is watched (through RolloutService.watch, never polled) only while some consumer holds
// it — the tree for visible pipeline nodes, the CodeLens for open deploy files, the badge for the
// summary. Changes are batched: the first change opens a short window, then one event carries every
// target that changed in it, so a burst of watch events costs one redraw.
import type { RolloutService } from '../../engine/api';
import type { RolloutSnapshot } from '../../engine/snapshot';
import { Emitter, type Disposable } from './events';
import { targetKey, type ResolvedTarget } from './targets';

interface Entry {
  target: ResolvedTarget;
  fingerprint: string;
  refs: number;
  watch?: Disposable;
  snapshot?: RolloutSnapshot;
  /** Set when the service could not be obtained or the watch threw. */
  error?: string;
  /** Bumped on each (re)subscription so late callbacks of an old watch are ignored. */
  generation: number;
}

export interface SnapshotStoreOptions {
  /** Window in ms that batches changes into one event. */
  debounceMs?: number;
  onError?: (target: ResolvedTarget, message: string) => void;
}

export class SnapshotStore implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly changed = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly emitter = new Emitter<string[]>();
  private service: Promise<RolloutService> | undefined;
  private disposed = false;
  readonly onDidChange = this.emitter.event;
  private readonly debounceMs: number;

  constructor(
    private readonly getService: () => Promise<RolloutService>,
    private readonly options: SnapshotStoreOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 50;
  }

  /** Holds a watch on the target until the returned disposable is disposed. */
  acquire(target: ResolvedTarget): Disposable {
    const key = targetKey(target);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { target, fingerprint: fingerprint(target), refs: 0, generation: 0 };
      this.entries.set(key, entry);
    } else {
      this.refreshTarget(entry, target);
    }
    entry.refs++;
    if (entry.refs === 1) this.subscribe(entry);
    let released = false;
    return {
      dispose: () => {
        if (released) return;
        released = true;
        this.release(key);
      },
    };
  }

  /** The latest snapshot of a target, if watched (or watched before). */
  get(key: string): RolloutSnapshot | undefined {
    return this.entries.get(key)?.snapshot;
  }

  errorOf(key: string): string | undefined {
    return this.entries.get(key)?.error;
  }

  isWatched(key: string): boolean {
    return !!this.entries.get(key)?.watch;
  }

  watchedCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.watch) n++;
    return n;
  }

  /** Targets with a known snapshot. */
  snapshots(): { target: ResolvedTarget; snapshot: RolloutSnapshot }[] {
    const out: { target: ResolvedTarget; snapshot: RolloutSnapshot }[] = [];
    for (const e of this.entries.values()) if (e.snapshot && e.refs > 0) out.push({ target: e.target, snapshot: e.snapshot });
    return out;
  }

  /** Records a snapshot obtained outside the watch (an action's result) so views update at once. */
  put(target: ResolvedTarget, snapshot: RolloutSnapshot): void {
    const e = this.entries.get(targetKey(target));
    if (!e) return;
    if (e.snapshot && e.snapshot.runId === snapshot.runId && e.snapshot.seq > snapshot.seq) return;
    e.snapshot = snapshot;
    e.error = undefined;
    this.markChanged(targetKey(target));
  }

  /**
   * The deploy files changed: held targets whose pipeline changed meaningfully (anything but source
   * ranges) are re-watched with the new model; targets that disappeared keep their last state until
   * their holders release them.
   */
  updateTargets(targets: readonly ResolvedTarget[]): void {
    for (const t of targets) {
      const e = this.entries.get(targetKey(t));
      if (e) this.refreshTarget(e, t);
    }
  }

  /**
   * The service changed (sandbox started/stopped, kubeconfig changed): re-watch everything held, and
   * forget the last state of what nobody holds. That state came from the old service, whose cluster or
   * credentials may no longer apply (an environment row would go on saying "unreachable").
   */
  resetService(): void {
    this.service = undefined;
    for (const [key, e] of this.entries) {
      if (e.refs > 0) this.subscribe(e);
      else if (e.snapshot || e.error) {
        this.entries.delete(key);
        this.markChanged(key);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const e of this.entries.values()) e.watch?.dispose();
    this.entries.clear();
    this.emitter.dispose();
  }

  private refreshTarget(entry: Entry, target: ResolvedTarget): void {
    const fp = fingerprint(target);
    entry.target = target;
    if (fp !== entry.fingerprint) {
      entry.fingerprint = fp;
      if (entry.refs > 0) this.subscribe(entry);
    }
  }

  private release(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.refs--;
    if (e.refs <= 0) {
      e.refs = 0;
      e.generation++;
      e.watch?.dispose();
      e.watch = undefined;
    }
  }

  private subscribe(entry: Entry): void {
    entry.watch?.dispose();
    entry.watch = undefined;
    const generation = ++entry.generation;
    const key = targetKey(entry.target);
    this.service ??= this.getService();
    this.service.then(
      (service) => {
        if (this.disposed || entry.generation !== generation || entry.refs === 0) return;
        try {
          const target = { pipeline: entry.target.pipelineModel, environment: entry.target.environment };
          entry.watch = service.watch(target, (snapshot) => {
            if (entry.generation !== generation) return;
            entry.snapshot = snapshot;
            entry.error = undefined;
            this.markChanged(key);
          });
        } catch (err) {
          this.fail(entry, key, err);
        }
      },
      (err) => {
        if (entry.generation !== generation) return;
        this.fail(entry, key, err);
      },
    );
  }

  private fail(entry: Entry, key: string, err: unknown): void {
    entry.error = err instanceof Error ? err.message : String(err);
    this.options.onError?.(entry.target, entry.error);
    this.markChanged(key);
  }

  private markChanged(key: string): void {
    if (this.disposed) return;
    this.changed.add(key);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const keys = [...this.changed];
      this.changed.clear();
      this.emitter.fire(keys);
    }, this.debounceMs);
  }
}

/** The pipeline without source ranges: a change here means the watch must restart. */
export function fingerprint(t: ResolvedTarget): string {
  return JSON.stringify(t.pipelineModel, (k, v) => (k === 'range' || k === 'thresholdRanges' ? undefined : v)) + '\u0000' + t.environment;
}
