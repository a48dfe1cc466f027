import assert from 'node:assert/strict';
import type { AttentionEntry, Disposable, RolloutTarget } from '../../../src/engine/api';
import { attentionEntry } from '../../../src/engine/attentionWatch';
import { emptyFacts } from '../../../src/engine/facts';
import { newRun } from '../../../src/engine/machine';
import { makePlan } from '../../../src/engine/plan';
import { emptyDoc } from '../../../src/engine/record';
import type { GateKind, RolloutPhase } from '../../../src/engine/snapshot';
import { buildSnapshot } from '../../../src/engine/view';
import { isActive, needsHuman } from '../../../src/extension/model/status';
import { SnapshotStore } from '../../../src/extension/model/snapshotStore';
import { allTargets, targetKey } from '../../../src/extension/model/targets';
import { AttentionTracker } from '../../../src/extension/status/attentionTracker';
import { statusBarText, summarize } from '../../../src/extension/status/summary';
import { examplePipelines, FakeService, snapshot, until } from './fixtures';

/** The fake service plus the engine's light stream: `attend` pushes entries to every open stream. */
class AttentionService extends FakeService {
  streams = new Set<{ targets: readonly RolloutTarget[]; listener: (e: AttentionEntry[]) => void }>();
  streamCalls = 0;
  watchAttention(targets: readonly RolloutTarget[], listener: (e: AttentionEntry[]) => void): Disposable {
    this.streamCalls++;
    const s = { targets, listener };
    this.streams.add(s);
    return { dispose: () => this.streams.delete(s) };
  }
  /** Entries by "pipeline@environment"; targets not named are idle. */
  attend(states: Record<string, { phase: RolloutPhase; gateKind?: GateKind }>): void {
    for (const s of this.streams) {
      s.listener(
        s.targets.map((t) => {
          const st = states[FakeService.key(t)] ?? { phase: 'idle' };
          return { target: t, pipeline: t.pipeline.name, environment: t.environment, phase: st.phase, gateKind: st.gateKind, waitsForHuman: st.phase === 'waiting' && st.gateKind === 'manual', active: st.phase !== 'idle' };
        }),
      );
    }
  }
}

describe('surfaces: badge and status bar through the attention stream', () => {
  const targets = [...allTargets(examplePipelines()), ...allTargets(examplePipelines('simple.deploy.yaml'))];
  let store: SnapshotStore;
  let tracker: AttentionTracker | undefined;
  afterEach(() => {
    tracker?.dispose();
    store?.dispose();
  });

  it('follows every target through one stream and holds a full snapshot only of runs in progress', async () => {
    const service = new AttentionService();
    store = new SnapshotStore(async () => service, { debounceMs: 5 });
    tracker = new AttentionTracker(async () => service, store);
    tracker.setTargets(targets);
    await until(() => service.streams.size === 1, 'stream opened');
    assert.equal([...service.streams][0].targets.length, targets.length);
    service.attend({});
    assert.deepEqual([tracker.summary.waiting.length, tracker.summary.active.length, service.watchCalls], [0, 0, 0], 'idle: no full watch at all');

    service.attend({ 'checkout@staging': { phase: 'waiting', gateKind: 'manual' }, 'hello@production': { phase: 'progressing' } });
    assert.deepEqual(tracker.summary.waiting.map(targetKey), [targetKey(targets[0])]);
    assert.deepEqual(new Set(tracker.heldKeys()), new Set([targetKey(targets[0]), targetKey(targets[3])]));
    await until(() => service.activeWatches() === 2, 'full watches of the two active runs');
    assert.equal(statusBarText(tracker.summary), '$(rocket) 2 rollouts · 1 waiting');

    service.attend({ 'hello@production': { phase: 'progressing' } });
    assert.equal(tracker.summary.waiting.length, 0, 'promote clears the badge');
    assert.deepEqual(tracker.heldKeys(), [targetKey(targets[3])]);
    assert.equal(service.activeWatches(), 1, 'the finished wait released its full watch');
  });

  it('re-opens the stream only when targets change or the service is replaced', async () => {
    const service = new AttentionService();
    store = new SnapshotStore(async () => service, { debounceMs: 5 });
    tracker = new AttentionTracker(async () => service, store);
    tracker.setTargets(targets);
    await until(() => service.streamCalls === 1, 'stream opened');
    tracker.setTargets(allTargets([...examplePipelines(), ...examplePipelines('simple.deploy.yaml')]));
    await new Promise((r) => setImmediate(r));
    assert.equal(service.streamCalls, 1, 'a re-parse with the same pipelines keeps the stream');
    tracker.setTargets(targets.slice(0, 2));
    await until(() => service.streamCalls === 2, 'stream re-opened for the new targets');
    assert.equal(service.streams.size, 1, 'the old stream was closed');
    tracker.resetService();
    await until(() => service.streamCalls === 3, 'stream re-opened on a service reset');
    assert.equal(service.streams.size, 1);
  });

  it('falls back to a full watch of every target when the service has no attention stream', async () => {
    const service = new FakeService();
    store = new SnapshotStore(async () => service, { debounceMs: 5 });
    tracker = new AttentionTracker(async () => service, store);
    tracker.setTargets(targets);
    await until(() => service.activeWatches() === targets.length, 'every target watched');
    service.emit('checkout@staging', snapshot({ phase: 'waiting', gate: { kind: 'manual', since: '', message: '' } }));
    await until(() => tracker!.summary.waiting.length === 1, 'badge from snapshots');
    assert.equal(statusBarText(tracker.summary), '$(rocket) 1 rollout · 1 waiting');
  });

  it('the stream and the merged status never disagree: same rule for every phase, gate and error', () => {
    const p = examplePipelines()[0];
    const target = { pipeline: p, environment: 'staging' };
    const pr = makePlan(p, 'staging');
    assert.ok(pr.ok);
    const plan = pr.plan;
    const phases: RolloutPhase[] = ['idle', 'progressing', 'waiting', 'paused', 'succeeded', 'failed', 'rolledBack', 'aborted'];
    const gates: (GateKind | undefined)[] = [undefined, 'manual', 'analysis', 'tests', 'pause', 'noData', 'rolloutStatus', 'scaleDownDelay', 'after'];
    let waiting = 0;
    for (const phase of phases) {
      for (const kind of gates) {
        for (const error of [undefined, { kind: 'unreachable' as const, message: 'down' }]) {
          const rec = { ...newRun(plan, { runId: 'r1', image: plan.image, actor: 't', now: 0 }), phase, gate: kind ? { kind, since: 0, message: '' } : undefined };
          const doc = { ...emptyDoc(plan.pipeline), current: rec };
          const snap = buildSnapshot({ plan, doc, facts: emptyFacts(), now: 0, seq: 1, error });
          const entry = attentionEntry(target, doc, error);
          const what = `${phase}/${kind}/${error?.kind}`;
          assert.equal(entry.waitsForHuman, needsHuman(snap), what);
          assert.equal(entry.active, isActive(snap), what);
          const resolved = allTargets([p])[0];
          assert.deepEqual(summarize([{ target: resolved, snapshot: snap }]).waiting.length, entry.waitsForHuman ? 1 : 0, what);
          if (entry.waitsForHuman) waiting++;
        }
      }
    }
    assert.ok(waiting > 0, 'some states ask for a human');
  });
});
