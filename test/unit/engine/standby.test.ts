// Stand-by and hand-over between drivers (fake cluster, virtual time): a session that may drive but
// finds another live driver waits on its watches alone, and takes the run over the moment the driver
// hands over (RolloutSession.handOver: step in flight recorded, Lease released) instead of after expiry.
import assert from 'node:assert/strict';
import type { KubeOps } from '../../../src/engine/ports';
import type { RecordDoc } from '../../../src/engine/record';
import { World, examplePipeline, planOf, pump, settle, terminal } from './harness';

/** The same cluster, with every call but watches written down (what a stand-by costs the API server). */
function counting(ops: KubeOps): { ops: KubeOps; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(ops, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop !== 'watch' && prop !== 'stats') calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ops: proxy, calls };
}

describe('engine: standing by and handing over', function () {
  let world: World;
  afterEach(() => world?.dispose());

  it('a session standing by sends nothing but its watches for an hour, takes over the moment the driver hands over, and finishes the run', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const a = world.session(plan, 'driver-a', { leaseDurationMs: 5000 });
    await a.open();
    assert.deepEqual(await a.start(plan.image, 'test'), { ok: true });
    const counted = counting(world.cluster);
    const b = world.session(plan, 'driver-b', { leaseDurationMs: 5000, ops: counted.ops });
    await b.open();
    const atGate = await world.until(b, (x) => x.gate?.kind === 'manual');
    assert.equal(atGate.driver?.holder, 'driver-a');
    // An hour at the gate (720 lease periods), in steps the driver's renewals can land between.
    for (let i = 0; i < 3600; i++) {
      world.clock.advance(1000);
      await settle(2);
    }
    assert.deepEqual(counted.calls, [], 'the stand-by made no request besides its watches');
    assert.equal(b.isDriver, false);
    assert.equal(a.isDriver, true);

    await a.handOver();
    await settle();
    // No time passed: the Lease was released, not left to expire.
    assert.equal(b.isDriver, true, 'the stand-by drives');
    assert.equal(b.snapshot().driver?.holder, 'driver-b');
    assert.equal(a.isDriver, false);
    assert.deepEqual(await pump(world.clock, b.act('promote', 'alice')), { ok: true });
    const done = await world.until(b, terminal);
    assert.equal(done.phase, 'succeeded', done.reason);
    assert.equal(a.isDriver, false, 'a session that handed over does not take the run back');
    assert.ok(done.events.some((e) => e.reason === 'PromoteRequested' && e.message.includes('alice')));
  });

  it('handing over mid-effect records that step first: the next driver neither repeats nor skips it', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    let handing: Promise<void> | undefined;
    let lastOfA: RecordDoc | undefined;
    const a = world.session(plan, 'driver-a', {
      leaseDurationMs: 5000,
      onPersist: (doc) => {
        lastOfA = doc;
        // The test Job's creation is recorded as pending and about to be sent: leave right now.
        if (!handing && doc.current?.pending?.kind === 'startTest') handing = a.handOver();
      },
    });
    const b = world.session(plan, 'driver-b', { leaseDurationMs: 5000 });
    await Promise.all([a.open(), b.open()]);
    assert.deepEqual(await a.start(plan.image, 'test'), { ok: true });
    await world.until(b, () => handing !== undefined, { stepMs: 100 });
    await pump(world.clock, handing!, 50);
    assert.equal(lastOfA?.current?.pending, undefined, 'the last record driver-a wrote has no step in flight');
    assert.ok(lastOfA?.current?.events.some((e) => e.reason === 'TestStarted'), 'and holds the test it started');
    const atGate = await world.until(b, (x) => x.gate?.kind === 'manual' || terminal(x));
    assert.equal(atGate.gate?.kind, 'manual', atGate.reason);
    assert.equal(atGate.driver?.holder, 'driver-b');
    assert.equal(world.cluster.writes.filter((w) => w.kind === 'Job' && w.verb === 'create').length, 1, 'the test Job was created once');
    assert.equal(atGate.tests.filter((t) => t.name === 'smoke' && t.status === 'passed').length, 1);
    assert.equal(atGate.analysis.filter((m) => m.stage === 0 && m.verdict === 'pass' && m.metric === 'successRate').length, 2, 'exactly the checks the stage needs');
  });

  it('a handed-over session with nobody standing by leaves the Lease free for the next client', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-gateway.deploy.yaml'));
    const a = world.session(plan, 'driver-a', { leaseDurationMs: 5000 });
    await a.open();
    await a.start(plan.image, 'test');
    await world.until(a, (x) => x.gate?.kind === 'manual');
    await a.handOver();
    await settle();
    assert.equal(a.snapshot().driver, undefined, 'no holder in the Lease');
    world.clock.advance(60_000);
    await settle();
    assert.equal(a.isDriver, false, 'it does not take the run back when time passes');
    const c = world.session(plan, 'driver-c', { leaseDurationMs: 5000 });
    await c.open();
    await settle();
    assert.equal(c.isDriver, true, 'a newcomer drives at once');
  });
});
