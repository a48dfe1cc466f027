import assert from 'node:assert/strict';
import { World, examplePipeline, planOf, settle, terminal } from './harness';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { checkWeights, sumOf } from '../../../src/engine/weights';
import { KubeError } from '../../../src/engine/ports';

const EXAMPLES = [
  ['simple.deploy.yaml', 'simple'],
  ['canary-replicas.deploy.yaml', 'canary/replicas'],
  ['canary-istio.deploy.yaml', 'canary/istio'],
  ['canary-gateway.deploy.yaml', 'canary/gatewayApi'],
  ['blue-green.deploy.yaml', 'blueGreen'],
] as const;

/** Invariants every snapshot must satisfy. */
function assertInvariants(s: RolloutSnapshot, stageMax: (i: number) => number): void {
  assert.equal(sumOf(s.weights.requested), 100, `requested weights sum: ${JSON.stringify(s.weights.requested)}`);
  assert.equal(sumOf(s.weights.actual), 100, `actual weights sum: ${JSON.stringify(s.weights.actual)}`);
  if (s.strategy === 'canary' && s.phase !== 'succeeded') {
    const v = checkWeights(s.weights.requested, Math.max(stageMax(s.stage.index), ...s.stages.filter((x) => x.state === 'done').map((x) => x.weights.canary), s.stages[s.stages.length - 1].state !== 'pending' ? 100 : 0));
    assert.deepEqual(v, [], `weights invariant at stage ${s.stage.index}: ${JSON.stringify(s.weights)}`);
  }
}

describe('engine sessions against the fake cluster', function () {
  let world: World;
  afterEach(() => world?.dispose());

  for (const [file, label] of EXAMPLES) {
    it(`${label}: a run goes to success through its manual gates (${file})`, async () => {
      world = new World();
      const plan = planOf(examplePipeline(file));
      const s = world.session(plan);
      await s.open();
      const started = await s.start(plan.image, 'test');
      assert.deepEqual(started, { ok: true });
      let promotes = 0;
      const seen: RolloutSnapshot[] = [];
      s.subscribe((x) => seen.push(x));
      const done = await world.until(s, terminal, {
        each: async () => {
          const snap = s.snapshot();
          if (snap.gate?.kind === 'manual') {
            promotes++;
            assert.deepEqual(await s.act('promote', 'test'), { ok: true });
          }
        },
      });
      assert.equal(done.phase, 'succeeded', done.reason);
      const manual = plan.stages.filter((x) => x.mode === 'manual').length;
      assert.equal(promotes, manual, 'one promote per manual gate');
      for (const x of seen) assertInvariants(x, (i) => plan.stages[i]?.weights.canary ?? 100);
      // Stable runs the new image; nothing the run created is left behind.
      const dep = await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: plan.strategy === 'blueGreen' ? `${plan.names.stable}-green` : plan.names.stable });
      assert.equal(dep?.spec.template.spec.containers[0].image, plan.image);
      if (plan.strategy === 'canary') {
        assert.equal(await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: plan.names.canary }), undefined, 'canary removed');
        assert.deepEqual(done.weights.actual, { canary: 0, baseline: 0, current: 100 });
      }
      if (plan.strategy === 'blueGreen') {
        const svc = await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: plan.namespace, name: plan.names.service });
        assert.equal(svc?.spec.selector['kube-delivery.dev/track'], 'green');
        const old = await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: plan.names.stable });
        assert.equal(old?.spec.replicas, 0, 'old colour scaled down after the delay');
      }
      assert.ok(done.history.length === 0 || done.history[0].phase === 'succeeded');
    });
  }

  it('a manual gate waits until promote (no advance with time alone)', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    const atGate = await world.until(s, (x) => x.gate?.kind === 'manual');
    assert.equal(atGate.stage.index, 1);
    assert.equal(atGate.phase, 'waiting');
    world.clock.advance(60 * 60_000);
    await settle();
    const later = s.snapshot();
    assert.equal(later.stage.index, 1);
    assert.equal(later.gate?.kind, 'manual');
    assert.ok(later.actions.promote.allowed);
    await s.act('promote', 'alice');
    const next = await world.until(s, (x) => x.stage.index === 2 || terminal(x));
    assert.ok(next.events.some((e) => e.reason === 'PromoteRequested' && e.message.includes('alice')));
  });

  it('an -errors image rolls back automatically and the record names check, value and threshold', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-istio.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    await s.start('registry.example.com/payments:3.2.0-errors', 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    const failed = done.analysis.find((m) => m.verdict === 'fail');
    assert.ok(failed, 'a failed measurement is recorded');
    assert.equal(failed.metric, 'successRate');
    assert.equal(failed.value, 91.2);
    assert.equal(failed.threshold, 99.5);
    assert.match(failed.message, /success rate 91\.2% < 99\.5%/);
    assert.match(done.reason, /success rate 91\.2% < 99\.5%/);
    assert.match(failed.query, /kube_delivery_dev_track="canary"/);
    const vs = await world.cluster.get({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', namespace: plan.namespace, name: 'payments' });
    assert.deepEqual(vs?.spec.http[0].route.map((r: { weight: number }) => r.weight), [100]);
  });

  it('a crash-looping canary rolls back', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-gateway.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    await s.start('registry.example.com/search:5.1.0-crash', 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    assert.match(done.reason, /crash-looping|CrashLoopBackOff|restarted/);
  });

  it('a crash-looping simple rollout restores the previous pod template', async () => {
    world = new World();
    const plan = planOf(examplePipeline('simple.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    await s.start('registry.example.com/hello:2.1.0-crash', 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    const dep = await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: 'hello' });
    assert.equal(dep?.spec.template.spec.containers[0].image, done.fromImage);
  });

  for (const file of ['canary-replicas.deploy.yaml', 'canary-istio.deploy.yaml', 'canary-gateway.deploy.yaml']) {
    it(`abort mid-stage puts 100% on stable in one router write, then scales the canary down (${file})`, async () => {
      world = new World();
      const plan = planOf(examplePipeline(file));
      const s = world.session(plan);
      await s.open();
      await s.start(plan.image, 'test');
      await world.until(s, (x) => x.gate?.kind === 'analysis' || x.gate?.kind === 'tests');
      const before = world.cluster.routerWrites().length;
      const writesBefore = world.cluster.writes.length;
      assert.deepEqual(await s.act('abort', 'bob'), { ok: true });
      const done = await world.until(s, terminal);
      assert.equal(done.phase, 'aborted');
      const after = world.cluster.routerWrites().slice(before);
      const first = after[0];
      assert.ok(first, 'a router write happened');
      if (plan.router === 'replicas') {
        assert.equal(first.name, plan.names.canary);
        assert.equal(first.object?.spec.replicas, 0);
      } else if (plan.router === 'istio') {
        assert.deepEqual(first.object?.spec.http[0].route.map((r: { weight: number }) => r.weight).slice(0, 2), [100, 0]);
      } else {
        assert.deepEqual(first.object?.spec.rules[0].backendRefs.map((r: { weight: number }) => r.weight).slice(0, 2), [100, 0]);
      }
      // The canary Deployment goes away only after that write.
      const del = world.cluster.writes.slice(writesBefore).findIndex((w) => w.kind === 'Deployment' && w.name === plan.names.canary && w.verb === 'delete');
      const routeIdx = world.cluster.writes.slice(writesBefore).findIndex((w) => w.seq === first.seq);
      assert.ok(del > routeIdx, 'canary deleted after the router write');
      assert.deepEqual(done.weights.actual, { canary: 0, baseline: 0, current: 100 });
    });
  }

  it('a failing test Job rolls back with its log excerpt', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml', (t) => t.replace('registry.example.com/smoke:1.0', 'registry.example.com/smoke:1.0-fail')));
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    const t = done.tests.find((x) => x.name === 'smoke');
    assert.equal(t?.status, 'failed');
    assert.match(t?.logExcerpt ?? '', /FAIL: expected 200/);
    assert.match(done.reason, /test smoke failed/);
  });

  it('no data is its own verdict: the run waits with the reason instead of passing', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-istio.deploy.yaml'));
    const s = world.session(plan);
    await s.open();
    // Metrics for the canary never appear: answer every query with an empty vector.
    world.cluster.prometheus = async () => ({ status: 'success', data: { resultType: 'vector', result: [] } });
    await s.start(plan.image, 'test');
    const snap = await world.until(s, (x) => x.gate?.kind === 'noData');
    assert.equal(snap.phase, 'waiting');
    assert.match(snap.gate!.message, /no data/);
    assert.ok(snap.analysis.every((m) => m.verdict === 'noData'));
    world.clock.advance(10 * 60_000);
    await settle();
    assert.equal(s.snapshot().stage.index, 0, 'no silent pass');
  });

  it('a driver killed mid-stage and restarted resumes without repeating or skipping', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const a = world.session(plan, 'driver-a', { leaseDurationMs: 5000 });
    await a.open();
    await a.start(plan.image, 'test');
    await world.until(a, (x) => x.gate?.kind === 'analysis');
    const jobsBefore = world.cluster.writes.filter((w) => w.kind === 'Job' && w.verb === 'create').length;
    a.kill();
    const b = world.session(plan, 'driver-b', { leaseDurationMs: 5000 });
    await b.open();
    const atGate = await world.until(b, (x) => x.gate?.kind === 'manual' || terminal(x));
    assert.equal(atGate.gate?.kind, 'manual', 'the manual gate was not skipped');
    assert.equal(atGate.driver?.holder, 'driver-b');
    const jobsAfter = world.cluster.writes.filter((w) => w.kind === 'Job' && w.verb === 'create').length;
    assert.equal(jobsAfter, jobsBefore, 'test Job not created twice');
    const passed = atGate.analysis.filter((m) => m.stage === 0 && m.verdict === 'pass' && m.metric === 'successRate').length;
    assert.equal(passed, 2, 'exactly the checks the stage needs');
  });

  it('two drivers at once: one drives, the other observes and forwards a promote', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const a = world.session(plan, 'driver-a');
    const b = world.session(plan, 'driver-b');
    await Promise.all([a.open(), b.open()]);
    const [ra, rb] = await Promise.all([a.start(plan.image, 'a'), b.start(plan.image, 'b')]);
    assert.equal([ra, rb].filter((r) => r.ok).length, 1, 'exactly one start wins');
    const driver = ra.ok ? a : b;
    const observer = ra.ok ? b : a;
    const gate = await world.until(observer, (x) => x.gate?.kind === 'manual');
    assert.equal(observer.isDriver, false);
    assert.equal(driver.isDriver, true);
    assert.equal(gate.driver?.self, false);
    assert.deepEqual(await observer.act('promote', 'observer'), { ok: true });
    const done = await world.until(observer, terminal);
    assert.equal(done.phase, 'succeeded');
  });

  it('a watch error shows in the snapshot until every failed watch has opened again, even when nothing changed meanwhile', async () => {
    world = new World();
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    // Keep each watch's error and recovery callbacks so the test can play a cut-and-repaired watch.
    const hooks = new Map<string, { fail?: (e: KubeError) => void; recover?: () => void }>();
    const watch = world.cluster.watch.bind(world.cluster);
    world.cluster.watch = (apiVersion, kind, ns, selector, onEvent, onError, onRecover) => {
      hooks.set(kind, { fail: onError, recover: onRecover });
      return watch(apiVersion, kind, ns, selector, onEvent, onError, onRecover);
    };
    const s = world.session(plan);
    await s.open();
    await settle();
    assert.equal(s.snapshot().error, undefined);
    const refused = new KubeError('cannot reach the cluster', 'unreachable', 0, true);
    hooks.get('Pod')!.fail!(refused);
    hooks.get('Lease')!.fail!(refused);
    assert.equal(s.snapshot().error?.kind, 'unreachable');
    hooks.get('Pod')!.recover!();
    assert.equal(s.snapshot().error?.kind, 'unreachable', 'the Lease watch is still down');
    hooks.get('Lease')!.recover!();
    assert.equal(s.snapshot().error, undefined);
  });
});

describe('nginx router (fake cluster)', () => {
  it('a canary Ingress carries the weight; abort sets it to 0 in one write; cleanup removes it', async () => {
    const world = new World();
    try {
      const plan = planOf(
        examplePipeline('canary-gateway.deploy.yaml', (t) => t.replace(/router: gatewayApi\n(\s+)httpRoute: search/, 'router: nginx\n$1ingress: search')),
      );
      assert.equal(plan.router, 'nginx');
      await world.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plan.namespace } });
      await world.cluster.create({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'search', namespace: plan.namespace },
        spec: { rules: [{ host: 'search.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'search', port: { number: 80 } } } }] } }] },
      });
      const s = world.session(plan);
      await s.open();
      await s.start(plan.image, 'test');
      await world.until(s, (x) => x.gate?.kind === 'analysis');
      const ing = await world.cluster.get({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: plan.namespace, name: 'search-canary' });
      assert.equal(ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary'], 'true');
      assert.equal(ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'], String(plan.stages[0].weights.canary));
      assert.equal(ing?.spec.rules[0].http.paths[0].backend.service.name, 'search-canary');
      const before = world.cluster.writes.length;
      await s.act('abort', 'test');
      const done = await world.until(s, terminal);
      assert.equal(done.phase, 'aborted');
      const firstIngressWrite = world.cluster.writes.slice(before).find((w) => w.kind === 'Ingress');
      assert.equal(firstIngressWrite?.object?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'], '0');
      assert.equal(await world.cluster.get({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: plan.namespace, name: 'search-canary' }), undefined);
    } finally {
      world.dispose();
    }
  });
});
