// Fake rollout snapshots for the editor-surface tests, shared by the unit tests (tsx) and the host tests
// (bundled by esbuild into the extension host). Types only from the engine: no vscode, no node modules,
// so either side can import it.
import type { RolloutTarget } from '../../../src/engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';

export type SnapshotActions = RolloutSnapshot['actions'];

/** What an idle pipeline allows: start only, every other action with its reason. */
export function noActions(): SnapshotActions {
  return {
    start: { allowed: true },
    promote: { allowed: false, reason: 'no run in progress' },
    promoteFull: { allowed: false, reason: 'no run in progress' },
    abort: { allowed: false, reason: 'no run in progress' },
    pause: { allowed: false, reason: 'no run in progress' },
    resume: { allowed: false, reason: 'no run in progress' },
    retry: { allowed: false, reason: 'no run in progress' },
  };
}

/** A run in progress that allows exactly `actions` (start is refused). */
export function allowing(...actions: RolloutAction[]): SnapshotActions {
  const a = noActions();
  a.start = { allowed: false, reason: 'a run is in progress' };
  for (const x of actions) a[x] = { allowed: true };
  return a;
}

/** An idle canary snapshot of checkout in staging (sandbox), with `over` applied. */
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

/** An idle snapshot of a real target: names, place, strategy and stage count from its pipeline. */
export function snapshotOf(target: RolloutTarget, over: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  const p = target.pipeline;
  const env = p.environments.find((e) => e.name === target.environment);
  if (!env) throw new Error(`${p.name} has no environment ${target.environment}`);
  return snapshot({
    pipeline: p.name,
    environment: target.environment,
    context: env.context,
    namespace: env.namespace,
    strategy: p.strategy.type,
    router: p.strategy.type === 'canary' ? p.strategy.traffic.router : undefined,
    updatedAt: new Date().toISOString(),
    stage: { index: 0, count: p.strategy.type === 'canary' ? p.strategy.stages.length : 1 },
    versions: [{ role: 'stable', deployment: p.app.deployment, image: 'registry.example.com/x:1.0.0', desired: 3, ready: 3, updated: 3, available: 3 }],
    ...over,
  });
}
