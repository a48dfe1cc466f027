import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { applyDelta, computeDelta, deepEqual, isEmptyDelta, needsFullSnapshot } from '../../../src/webview/delta';
import { allActions, canarySnapshot, iso, measurement, nextSnapshot, T0 } from './fixtures';

/** What postMessage does to a message (structured clone; JSON is the stricter stand-in). */
function wire<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

type Op = (s: RolloutSnapshot, n: number) => RolloutSnapshot;

const ops: Record<string, Op> = {
  appendPoints: (s, n) => {
    let out = s;
    for (let i = 0; i <= n % 4; i++) out = nextSnapshot(out);
    return out;
  },
  appendMeasurement: (s, n) => ({ ...s, analysis: [...s.analysis, measurement(s.stage.index, s.analysis.length + 1, n % 2 ? 'successRate' : 'latencyP50Ms', n % 3 ? 90 + (n % 10) : null, iso(T0 + n * 1000))] }),
  appendEvent: (s, n) => ({ ...s, events: [...s.events, { at: iso(T0 + n), type: n % 2 ? 'Warning' : 'Normal', reason: `R${n}`, message: `event ${n}` }] }),
  changePhase: (s, n) => ({ ...s, phase: (['progressing', 'waiting', 'paused'] as const)[n % 3], reason: `reason ${n}` }),
  dropGate: (s) => {
    const { gate: _gate, ...rest } = s;
    return rest as RolloutSnapshot;
  },
  addGate: (s, n) => ({ ...s, gate: { kind: 'analysis', since: iso(T0 + n), message: `analysis ${n % 3} of 3`, checksDone: n % 3, checksNeeded: 3 } }),
  changeActions: (s, n) => ({ ...s, actions: allActions({ promote: n % 2 === 0, abort: true, resume: n % 3 === 0 }) }),
  advanceStage: (s) => ({ ...s, stage: { ...s.stage, index: Math.min(s.stage.index + 1, s.stage.count - 1) }, stages: s.stages.map((st, i) => ({ ...st, state: i <= s.stage.index ? 'done' : st.state })) }),
  rewriteTimeline: (s, n) => ({ ...s, timeline: s.timeline.map((p, i) => (i === n % Math.max(1, s.timeline.length) ? { ...p, actual: { ...p.actual, canary: p.actual.canary + 1 } } : p)) }),
  truncateEvents: (s) => ({ ...s, events: s.events.slice(1) }),
  // The engine's record keeps capped windows: the oldest entries fall off as new ones arrive.
  slideTimeline: (s, n) => {
    const grown = ops.appendPoints(s, n);
    return { ...grown, timeline: grown.timeline.slice(1 + (n % 3)) };
  },
  slideEvents: (s, n) => {
    const grown = ops.appendEvent(s, n);
    return { ...grown, events: grown.events.slice(1) };
  },
  editTestRun: (s, n) => ({ ...s, tests: s.tests.map((t, i) => (i === n % s.tests.length ? { ...t, status: 'failed', durationMs: n } : t)) }),
  newRun: (_s, n) => ({ ...canarySnapshot({ points: 3, seq: 1, runId: `run-${n + 2}` }) }),
  setError: (s, n) => ({ ...s, error: { kind: 'unreachable', message: `dial tcp: ${n}` } }),
  clearError: (s) => {
    const { error: _error, ...rest } = s;
    return rest as RolloutSnapshot;
  },
};

const opArb = fc.tuple(fc.constantFrom(...Object.keys(ops)), fc.nat(1000));

describe('dashboard deltas', () => {
  it('a one-point step is sent as an appended tail, not the whole timeline', () => {
    const a = canarySnapshot({ points: 500 });
    const b = nextSnapshot(a);
    const d = computeDelta(a, b);
    assert.equal(d.append.timeline?.length, 1);
    assert.equal(d.set.timeline, undefined);
    assert.deepEqual(Object.keys(d.set).sort(), ['seq', 'updatedAt']);
    assert.deepEqual(applyDelta(a, wire(d)), { ok: true, snapshot: b });
  });

  it('a changed middle point replaces the timeline instead of appending', () => {
    const a = canarySnapshot({ points: 10 });
    const b = ops.rewriteTimeline(a, 3);
    const d = computeDelta(a, b);
    assert.equal(d.append.timeline, undefined);
    assert.equal((d.set.timeline as unknown[]).length, 10);
  });

  it('a removed optional field travels as unset', () => {
    const a = canarySnapshot();
    const b = ops.dropGate(a, 0);
    const d = computeDelta(a, b);
    assert.deepEqual(d.unset, ['gate']);
    const r = applyDelta(a, d);
    assert.ok(r.ok && !('gate' in r.snapshot));
  });

  it('a capped window that slid travels as drop + tail, not as the whole array', () => {
    const a = canarySnapshot({ points: 240 });
    const grown = nextSnapshot(nextSnapshot(a));
    const b = { ...grown, timeline: grown.timeline.slice(2) };
    const d = computeDelta(a, b);
    assert.deepEqual(d.drop, { timeline: 2 });
    assert.equal(d.append.timeline?.length, 2);
    assert.equal(d.set.timeline, undefined);
    const r = applyDelta(wire(a), wire(d), { inPlace: true });
    assert.ok(r.ok);
    assert.deepEqual(wire(r.snapshot), wire(b));
  });

  it('refuses a delta that drops more than the page holds', () => {
    const a = canarySnapshot({ points: 3 });
    const r = applyDelta(a, { fromSeq: a.seq, toSeq: a.seq + 1, set: {}, unset: [], append: {}, drop: { timeline: 9 } });
    assert.equal(r.ok, false);
  });

  it('refuses a delta computed from another seq', () => {
    const a = canarySnapshot({ seq: 5 });
    const b = nextSnapshot(nextSnapshot(a));
    const d = computeDelta(nextSnapshot(a), b);
    const r = applyDelta(a, d);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /from seq 6 cannot apply to seq 5/);
  });

  it('an unchanged snapshot gives an empty delta; a new run needs a full snapshot', () => {
    const a = canarySnapshot();
    assert.equal(isEmptyDelta(computeDelta(a, { ...a })), true);
    assert.equal(needsFullSnapshot(undefined, a), true);
    assert.equal(needsFullSnapshot(a, nextSnapshot(a)), false);
    assert.equal(needsFullSnapshot(a, { ...a, runId: 'run-9' }), true);
  });

  it('applying the deltas of any evolution reproduces every snapshot (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 40 }), (steps, points) => {
        let engine = canarySnapshot({ points, seq: 1 });
        let view = wire(engine);
        for (const [name, n] of steps) {
          const next = { ...ops[name](engine, n), seq: engine.seq + 1 };
          const delta = wire(computeDelta(engine, next));
          const r = applyDelta(view, delta, { inPlace: n % 2 === 0 });
          if (!r.ok) return false;
          view = r.snapshot;
          if (!deepEqual(view, next)) return false;
          // The view's copy is what a page would hold after structured clone: it must equal the engine's.
          assert.deepEqual(wire(view), wire(next));
          engine = next;
        }
        return true;
      }),
      { numRuns: 120 },
    );
  });

  it('deepEqual treats absent and undefined fields alike and compares arrays by position', () => {
    assert.equal(deepEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(deepEqual({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(deepEqual({ a: { b: null } }, { a: { b: 0 } }), false);
    assert.equal(deepEqual([], {}), false);
  });
});
