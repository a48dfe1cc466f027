import assert from 'node:assert/strict';
import { SnapshotStore } from '../../../src/extension/model/snapshotStore';
import { allTargets, targetKey } from '../../../src/extension/model/targets';
import { examplePipelines, FakeService, snapshot, until } from './fixtures';

describe('surfaces: snapshot store', () => {
  const targets = allTargets(examplePipelines());
  const [staging, production] = targets;
  let service: FakeService;
  let store: SnapshotStore;
  let events: string[][];

  beforeEach(() => {
    service = new FakeService();
    store = new SnapshotStore(async () => service, { debounceMs: 5 });
    events = [];
    store.onDidChange((keys) => events.push(keys));
  });
  afterEach(() => store.dispose());

  it('watches a target only while someone holds it, once however many hold it', async () => {
    const a = store.acquire(staging);
    const b = store.acquire(staging);
    await until(() => store.get(targetKey(staging)) !== undefined, 'first snapshot');
    assert.equal(service.watchCalls, 1);
    assert.equal(service.activeWatches(), 1);
    a.dispose();
    assert.equal(service.activeWatches(), 1, 'still held by b');
    b.dispose();
    b.dispose();
    assert.equal(service.activeWatches(), 0);
    assert.equal(store.isWatched(targetKey(staging)), false);
  });

  it('batches a burst of changes into one event naming every changed target', async () => {
    store.acquire(staging);
    store.acquire(production);
    await until(() => service.activeWatches() === 2, 'two watches');
    await until(() => events.length > 0, 'initial event');
    events.length = 0;
    for (let i = 2; i < 12; i++) service.emit('checkout@staging', snapshot({ seq: i, phase: 'progressing' }));
    service.emit('checkout@production', snapshot({ seq: 2, environment: 'production', phase: 'waiting' }));
    await until(() => events.length > 0, 'batched event');
    assert.equal(events.length, 1);
    assert.deepEqual(new Set(events[0]), new Set([targetKey(staging), targetKey(production)]));
    assert.equal(store.get(targetKey(staging))?.seq, 11);
  });

  it('re-watches on a service reset and ignores the old watch afterwards', async () => {
    store.acquire(staging);
    await until(() => service.activeWatches() === 1, 'watch');
    const old = service;
    service = new FakeService();
    old.watchers.get('checkout@staging')!.forEach((l) => l(snapshot({ seq: 50 })));
    store.resetService();
    await until(() => service.activeWatches() === 1, 're-watch on the new service');
    await until(() => store.get(targetKey(staging))?.seq === 1, 'snapshot from the new service');
    // The old service's listener was disposed by the store.
    assert.equal(old.activeWatches(), 0);
  });

  it("forgets, on a service reset, the last state of targets nobody holds (it was the old service's)", async () => {
    const held = store.acquire(production);
    await until(() => store.get(targetKey(production)) !== undefined, 'snapshot');
    held.dispose();
    assert.ok(store.get(targetKey(production)), 'kept while the service is the same');
    events.length = 0;
    service = new FakeService();
    store.resetService();
    assert.equal(store.get(targetKey(production)), undefined);
    await until(() => events.some((keys) => keys.includes(targetKey(production))), 'a change event for it');
    assert.equal(service.watchCalls, 0, 'nothing re-watched for a target nobody holds');
  });

  it('records why a target has no snapshot when the service cannot be created', async () => {
    const failing = new SnapshotStore(async () => {
      throw new Error('context prod-eu not found in kubeconfig');
    }, { debounceMs: 1 });
    failing.acquire(production);
    await until(() => failing.errorOf(targetKey(production)) !== undefined, 'error');
    assert.match(failing.errorOf(targetKey(production))!, /prod-eu/);
    failing.dispose();
  });

  it('restarts a watch when the pipeline changed, not when only ranges moved', async () => {
    store.acquire(staging);
    await until(() => service.activeWatches() === 1, 'watch');
    const moved = { ...staging, environmentModel: { ...staging.environmentModel, range: { start: { line: 99, character: 0 }, end: { line: 99, character: 5 } } } };
    store.updateTargets([moved]);
    assert.equal(service.watchCalls, 1);
    const changed = { ...staging, pipelineModel: { ...staging.pipelineModel, image: 'registry.example.com/checkout:2.0.0' } };
    store.updateTargets([changed]);
    await until(() => service.watchCalls === 2, 'second watch');
    assert.equal(service.activeWatches(), 1);
  });

  it('takes an action result at once but never goes back to an older snapshot of the run', async () => {
    store.acquire(staging);
    await until(() => store.get(targetKey(staging)) !== undefined, 'first snapshot');
    store.put(staging, snapshot({ runId: 'r1', seq: 5, phase: 'progressing' }));
    store.put(staging, snapshot({ runId: 'r1', seq: 4, phase: 'idle' }));
    assert.equal(store.get(targetKey(staging))?.seq, 5);
  });
});
