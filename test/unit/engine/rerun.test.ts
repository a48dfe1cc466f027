// Re-running a test of the current stage (RolloutService.rerunTest, the Testing view's "run again"):
// a new Job per attempt, every attempt recorded, driver/observer split, resumable without a second Job.
import assert from 'node:assert/strict';
import { createRolloutService } from '../../../src/engine/service';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { World, examplePipeline, planOf, pump, settle, terminal } from './harness';

const manualBlueGreen = () => examplePipeline('blue-green.deploy.yaml', (t) => t.replace('autoPromote: true', 'autoPromote: false'));
const atManualGate = (x: RolloutSnapshot) => x.gate?.kind === 'manual';
const attempts = (s: RolloutSnapshot, name: string) => s.tests.filter((t) => t.name === name);

describe('engine: re-running a test of the current stage', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it('an observer asks through the record; the driver runs attempt 2 as a new Job with the run labels and records its verdict and log', async () => {
    world = new World();
    const plan = planOf(manualBlueGreen());
    const driver = world.session(plan, 'driver-a');
    const observer = world.session(plan, 'observer-b');
    await driver.open();
    await observer.open();
    await driver.start(plan.image, 'test');
    const gate = await world.until(driver, atManualGate);
    assert.equal(attempts(gate, 'preview-smoke').length, 1);
    const first = attempts(gate, 'preview-smoke')[0];
    assert.equal(first.status, 'passed');

    await world.until(observer, (x) => x.runId === gate.runId && atManualGate(x));
    assert.deepEqual(await pump(world.clock, observer.rerunTest('preview-smoke', 'carol')), { ok: true });
    assert.equal(observer.isDriver, false, 'the observer did not take over');
    const again = await pump(world.clock, observer.rerunTest('preview-smoke', 'carol'));
    assert.equal(again.ok, false, 'a second re-run while one is pending or running is refused');

    const done = await world.until(driver, (x) => attempts(x, 'preview-smoke').some((t) => t.attempt === 2 && t.status === 'passed'));
    const [a1, a2] = attempts(done, 'preview-smoke');
    assert.deepEqual([a1.status, a1.job], ['passed', first.job], 'the first attempt stays as it was');
    assert.notEqual(a2.job, a1.job);
    assert.match(a2.job ?? '', /-r2$/);
    assert.match(a2.logExcerpt ?? '', /PASS/);
    assert.ok(done.events.some((e) => e.reason === 'TestRerunRequested' && e.message.includes('carol')));
    const job = await world.cluster.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: plan.namespace, name: a2.job! });
    assert.equal(job?.metadata.labels?.['kube-delivery.dev/run'], done.runId, 'same labels scheme: cleanup by run stays exact');
    assert.equal(job?.metadata.labels?.['kube-delivery.dev/test'], 'preview-smoke');
    // A passing re-run changes nothing else: the run still waits for its human.
    assert.equal(done.gate?.kind, 'manual');
    assert.deepEqual(await driver.act('promote', 'test'), { ok: true });
    assert.equal((await world.until(driver, terminal)).phase, 'succeeded');
  });

  it('a failing re-run at the manual gate rolls the run back like a first failure', async () => {
    world = new World();
    const plan = planOf(manualBlueGreen());
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    await world.until(s, atManualGate);
    assert.deepEqual(await s.rerunTest('preview-smoke', 'dave'), { ok: true });
    const running = await world.until(s, (x) => attempts(x, 'preview-smoke').some((t) => t.attempt === 2 && t.status === 'running'));
    const job = attempts(running, 'preview-smoke').find((t) => t.attempt === 2)!.job!;
    // The test fails this time (a flaky dependency went down).
    await world.cluster.mergePatch({ apiVersion: 'batch/v1', kind: 'Job', namespace: plan.namespace, name: job }, { status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } });
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    assert.match(done.reason, /test preview-smoke re-run \(attempt 2\) failed/);
    const svc = await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: plan.namespace, name: plan.names.service });
    assert.equal(svc?.spec.selector['kube-delivery.dev/track'], undefined, 'traffic never left the old colour');
  });

  it('refuses with reasons: unknown test, test of another stage, no run active', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    const none = await s.rerunTest('smoke', 'x');
    assert.deepEqual(none.ok ? 'ok' : [none.code, /no run in progress/.test(none.message)], ['notAllowed', true]);
    await s.start(plan.image, 'test');
    const gate = await world.until(s, atManualGate);
    assert.equal(gate.stage.index, 1);
    const other = await s.rerunTest('smoke', 'x');
    assert.equal(other.ok, false);
    assert.match(!other.ok ? other.message : '', /test 'smoke' does not belong to the current stage 2\/3/);
    const unknown = await s.rerunTest('nope', 'x');
    assert.match(!unknown.ok ? unknown.message : '', /defines no test 'nope'/);
  });

  it('a driver killed right after recording the re-run resumes it without creating a second Job', async () => {
    world = new World();
    const plan = planOf(manualBlueGreen());
    let killed = false;
    const a = world.session(plan, 'driver-a', {
      leaseDurationMs: 5000,
      onPersist: (doc) => {
        if (!killed && doc.current?.pending?.kind === 'startTest' && doc.current.pending.attempt === 2) {
          killed = true;
          a.kill();
        }
      },
    });
    await a.open();
    await a.start(plan.image, 'test');
    await world.until(a, atManualGate);
    assert.deepEqual(await a.rerunTest('preview-smoke', 'erin'), { ok: true });
    await settle();
    assert.ok(killed, 'the driver died with the Job creation pending in the record');
    const b = world.session(plan, 'driver-b', { leaseDurationMs: 5000 });
    await b.open();
    const done = await world.until(b, (x) => attempts(x, 'preview-smoke').some((t) => t.attempt === 2 && t.status === 'passed'));
    const job = attempts(done, 'preview-smoke').find((t) => t.attempt === 2)!.job!;
    const creates = world.cluster.writes.filter((w) => w.verb === 'create' && w.kind === 'Job' && w.name === job);
    assert.ok(creates.length <= 1, `one Job per attempt, got ${creates.length} creates`);
    assert.ok(await world.cluster.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: plan.namespace, name: job }));
  });

  it('the service applies act rules: protected environments need confirmation, read-only clients are refused', async () => {
    world = new World();
    const p = manualBlueGreen();
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock, identity: 'svc' });
    const prod = await svc.rerunTest({ pipeline: p, environment: 'production' }, 'preview-smoke');
    assert.equal(prod.ok ? 'ok' : prod.code, 'needsConfirmation');
    const idle = await pump(world.clock, svc.rerunTest({ pipeline: p, environment: 'staging' }, 'preview-smoke'));
    assert.equal(idle.ok ? 'ok' : idle.code, 'notAllowed');
    svc.dispose();
    const readOnly = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock, identity: 'ro', canDrive: false });
    const ro = await readOnly.rerunTest({ pipeline: p, environment: 'staging' }, 'preview-smoke');
    assert.match(ro.ok ? 'ok' : ro.message, /restricted workspace/);
    readOnly.dispose();
  });
});
