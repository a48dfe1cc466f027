// The editor's service lifecycle (src/extension/model/serviceSlot.ts, used by services.ts and the
// extension's deactivate): a service taken out of use hands its runs over before it is disposed, within
// a bound, and a replacement starts only after the old one has left.
import assert from 'node:assert/strict';
import { ServiceSlot, retireService, type SlotLog } from '../../../src/extension/model/serviceSlot';
import { FakeService, until } from './fixtures';

/** FakeService that writes down handOver and dispose in one shared log; handOver settles when told. */
class LeavingService extends FakeService {
  private settle?: { resolve: () => void; reject: (err: Error) => void };
  handOverCalled = false;
  constructor(
    readonly name: string,
    private readonly calls: string[],
    private readonly mode: 'prompt' | 'manual' = 'prompt',
  ) {
    super();
  }
  handOver(): Promise<void> {
    this.handOverCalled = true;
    this.calls.push(`${this.name}.handOver`);
    if (this.mode === 'prompt') return Promise.resolve().then(() => void this.calls.push(`${this.name}.handedOver`));
    return new Promise((resolve, reject) => (this.settle = { resolve: () => resolve(void this.calls.push(`${this.name}.handedOver`)), reject }));
  }
  finishHandOver(err?: Error): void {
    if (err) this.settle?.reject(err);
    else this.settle?.resolve();
  }
  override dispose(): void {
    this.calls.push(`${this.name}.dispose`);
    super.dispose();
  }
}

const quietLog = (): SlotLog & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
};

describe('surfaces: the editor hands its runs over before closing the service', () => {
  it('retire (deactivate) hands over, waits for it, and only then disposes', async () => {
    const calls: string[] = [];
    const svc = new LeavingService('a', calls, 'manual');
    const slot = new ServiceSlot({ create: async () => svc });
    assert.equal(await slot.get(), svc);
    let retired = false;
    const leaving = slot.retire().then(() => (retired = true));
    // Wait on the event itself: handOver was asked for; nothing is disposed while it runs.
    await until(() => svc.handOverCalled, 'handOver called');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['a.handOver']);
    assert.equal(retired, false, 'retire waits for the hand-over');
    svc.finishHandOver();
    await leaving;
    assert.deepEqual(calls, ['a.handOver', 'a.handedOver', 'a.dispose']);
  });

  it('a replaced service (kubeconfig, trust or sandbox changed) leaves before its successor is created', async () => {
    const calls: string[] = [];
    const services = [new LeavingService('a', calls, 'manual'), new LeavingService('b', calls)];
    let n = 0;
    const slot = new ServiceSlot({
      create: async () => {
        calls.push(`create ${services[n].name}`);
        return services[n++];
      },
    });
    await slot.get();
    void slot.retire();
    const next = slot.get();
    await until(() => services[0].handOverCalled, 'handOver called');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['create a', 'a.handOver'], 'the same window must not drive from two services at once');
    services[0].finishHandOver();
    assert.equal(await next, services[1]);
    assert.deepEqual(calls, ['create a', 'a.handOver', 'a.handedOver', 'a.dispose', 'create b']);
  });

  it('a hand-over that does not finish in time still ends in dispose, and says so', async () => {
    const calls: string[] = [];
    const svc = new LeavingService('a', calls, 'manual');
    const log = quietLog();
    const outcome = await retireService(svc, { handOverMs: 10, disposeMs: 10 }, log);
    assert.equal(outcome, 'handOverTimedOut');
    assert.deepEqual(calls, ['a.handOver', 'a.dispose']);
    assert.match(log.lines.join('\n'), /warn Handing the rollouts over took longer than 10 ms; closing anyway/);
  });

  it('a failed hand-over, a service without handOver and one that never started are disposed or skipped without throwing', async () => {
    const calls: string[] = [];
    const failing = new LeavingService('a', calls, 'manual');
    const log = quietLog();
    const pending = retireService(failing, undefined, log);
    await until(() => failing.handOverCalled, 'handOver called');
    failing.finishHandOver(new Error('cluster unreachable'));
    assert.equal(await pending, 'handOverFailed');
    assert.deepEqual(calls, ['a.handOver', 'a.dispose']);
    assert.match(log.lines.join('\n'), /cluster unreachable/);

    const plain = new FakeService();
    let disposed = false;
    plain.dispose = () => void (disposed = true);
    assert.equal(await retireService(plain), 'noHandOver');
    assert.ok(disposed);

    assert.equal(await retireService(Promise.reject(new Error('no kubeconfig'))), 'neverStarted');
    // A slot whose creation failed has nothing to retire and creates again on the next use.
    let attempts = 0;
    const slot = new ServiceSlot({
      create: async () => {
        if (++attempts === 1) throw new Error('no kubeconfig');
        return new FakeService();
      },
      onCreateError: () => undefined,
    });
    await assert.rejects(slot.get(), /no kubeconfig/);
    await slot.retire();
    assert.ok(await slot.get());
    assert.equal(attempts, 2);
  });
});
