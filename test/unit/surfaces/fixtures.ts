// Shared test data for the editor-surface unit tests: real pipelines parsed from the examples and a
// small in-memory RolloutService that streams snapshots the way the engine's watch does.
import fs from 'node:fs';
import path from 'node:path';
import type { ActionOptions, ActionResult, Disposable, RolloutService, RolloutTarget } from '../../../src/engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';
import type { Pipeline } from '../../../src/deployfile/model';
import { parseDeployFile } from '../../../src/deployfile/parse';

export const examplesDir = path.resolve(__dirname, '../../../examples');

export function examplePipelines(file = 'canary-replicas.deploy.yaml'): Pipeline[] {
  const p = path.join(examplesDir, file);
  const r = parseDeployFile(fs.readFileSync(p, 'utf8'), p);
  if (!r.pipelines.length) throw new Error(`${file}: ${JSON.stringify(r.diagnostics)}`);
  return r.pipelines;
}

const noActions = (): Record<RolloutAction, { allowed: boolean; reason?: string }> => ({
  start: { allowed: true },
  promote: { allowed: false, reason: 'no run in progress' },
  promoteFull: { allowed: false, reason: 'no run in progress' },
  abort: { allowed: false, reason: 'no run in progress' },
  pause: { allowed: false, reason: 'no run in progress' },
  resume: { allowed: false, reason: 'no run in progress' },
  retry: { allowed: false, reason: 'no run in progress' },
});

export function snapshot(over: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  return {
    pipeline: 'checkout',
    environment: 'staging',
    context: 'sandbox',
    namespace: 'checkout-staging',
    strategy: 'canary',
    router: 'replicas',
    seq: 1,
    phase: 'idle',
    reason: '',
    updatedAt: '2026-11-26T10:00:00.000Z',
    stage: { index: 0, count: 2 },
    stages: [],
    weights: { requested: { canary: 0, baseline: 0, current: 100 }, actual: { canary: 0, baseline: 0, current: 100 } },
    versions: [{ role: 'stable', deployment: 'checkout', image: 'registry.example.com/checkout:1.7.0', desired: 10, ready: 10, updated: 10, available: 10 }],
    analysis: [],
    tests: [],
    timeline: [],
    events: [],
    actions: noActions(),
    history: [],
    ...over,
  };
}

export function allowing(...actions: RolloutAction[]): RolloutSnapshot['actions'] {
  const a = noActions();
  a.start = { allowed: false, reason: 'a run is in progress' };
  for (const x of actions) a[x] = { allowed: true };
  return a;
}

/** In-memory RolloutService: `emit` pushes a snapshot to every watcher of a target. */
export class FakeService implements RolloutService {
  readonly watchers = new Map<string, Set<(s: RolloutSnapshot) => void>>();
  readonly acts: { target: string; action: RolloutAction; options?: ActionOptions }[] = [];
  readonly current = new Map<string, RolloutSnapshot>();
  watchCalls = 0;

  static key(t: RolloutTarget): string {
    return `${t.pipeline.name}@${t.environment}`;
  }

  async status(target: RolloutTarget): Promise<RolloutSnapshot> {
    return this.current.get(FakeService.key(target)) ?? snapshot({ pipeline: target.pipeline.name, environment: target.environment });
  }

  watch(target: RolloutTarget, listener: (s: RolloutSnapshot) => void): Disposable {
    this.watchCalls++;
    const key = FakeService.key(target);
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(listener);
    const first = this.current.get(key) ?? snapshot({ pipeline: target.pipeline.name, environment: target.environment });
    queueMicrotask(() => set!.has(listener) && listener(first));
    return { dispose: () => set!.delete(listener) };
  }

  emit(key: string, s: RolloutSnapshot): void {
    this.current.set(key, s);
    for (const l of this.watchers.get(key) ?? []) l(s);
  }

  activeWatches(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  async act(target: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ target: FakeService.key(target), action, options });
    return { ok: true, snapshot: await this.status(target) };
  }

  dispose(): void {
    this.watchers.clear();
  }
}

/** Resolves when `cond` holds, re-checking on every macrotask; fails after the deadline. */
export async function until(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
