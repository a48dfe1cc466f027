// Inside a real VS Code: when the window's rollout service is replaced (a kubeconfig, setting, trust or
// sandbox change), the old service hands its runs over before it is disposed, and the new one is created
// only after that — so a background driver standing by takes a run over at once. Deactivation goes
// through the same path (services.shutdownServices → ServiceSlot.retire; unit-tested in
// test/unit/surfaces/serviceSlot.test.ts).
import assert from 'node:assert/strict';
import type { SurfacesApi } from '../../../src/extension/surfaces';
import { FakeEngine, surfaces } from './surfaces-support';

/** A FakeEngine whose handOver and dispose are written down in `calls`. */
function leaving(name: string, calls: string[]): FakeEngine & { handOver(): Promise<void> } {
  const engine = new FakeEngine() as FakeEngine & { handOver(): Promise<void> };
  const dispose = engine.dispose.bind(engine);
  engine.handOver = async () => {
    calls.push(`${name}.handOver`);
    // Let a tick pass, as a real hand-over does (the release is a request): dispose must wait for it.
    await new Promise((r) => setImmediate(r));
    calls.push(`${name}.handedOver`);
  };
  engine.dispose = () => {
    calls.push(`${name}.dispose`);
    dispose();
  };
  return engine;
}

describe('editor hand-over (in-memory engine)', function () {
  this.timeout(30_000);
  let api: SurfacesApi;

  before(async () => {
    api = await surfaces();
  });
  after(() => api.setServiceFactory(undefined));

  it('a replaced service hands its runs over, is disposed, and only then is its successor created', async () => {
    const calls: string[] = [];
    const first = leaving('a', calls);
    api.setServiceFactory(() => first);
    assert.equal(await api.getRolloutService(), first);
    calls.length = 0;
    const second = leaving('b', calls);
    api.setServiceFactory(() => {
      calls.push('create b');
      return second;
    });
    assert.equal(await api.getRolloutService(), second);
    assert.deepEqual(calls, ['a.handOver', 'a.handedOver', 'a.dispose', 'create b']);
  });
});
