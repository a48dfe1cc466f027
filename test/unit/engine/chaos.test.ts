// Seeded chaos: random faults (5xx, 409 storms, cut watches), driver kills, promotes, aborts, pauses,
// checked against the invariants after every step. Deterministic per seed (virtual clock, seeded PRNG).
import assert from 'node:assert/strict';
import type { RolloutSession } from '../../../src/engine/session';
import { World, examplePipeline, planOf, pump, settle, terminal } from './harness';
import { rng } from './fake-cluster';
import { sumOf } from '../../../src/engine/weights';
import type { Plan } from '../../../src/engine/plan';
import { parseDoc } from '../../../src/engine/record';

const FILES = ['simple.deploy.yaml', 'canary-replicas.deploy.yaml', 'canary-istio.deploy.yaml', 'canary-gateway.deploy.yaml', 'blue-green.deploy.yaml', 'blue-green.deploy.yaml+preview'];
/** Blue-green with a preview share (1 new pod beside 3 live = 25%) through the user's own Service. */
const PREVIEW = 25;
const variant = (file: string) => (file.endsWith('+preview') ? examplePipeline(file.replace('+preview', ''), (t) => t.replace('scaleDownDelay: 30s', `scaleDownDelay: 30s\n    previewWeight: ${PREVIEW}`)) : examplePipeline(file));

/**
 * The share of the user Service the new colour is set up to get (its replicas over all replicas the
 * Service selects, by the Deployments' pod templates): stricter than ready pods, which lag behind.
 */
function colourShare(world: World, plan: Plan): number {
  const ns = plan.namespace;
  const svc = world.cluster.objects.get(`v1|Service|${ns}|${plan.names.service}`);
  const sel: Record<string, string> = svc?.spec?.selector ?? {};
  let idle = 0;
  let live = 0;
  for (const o of world.cluster.objects.values()) {
    if (o.kind !== 'Deployment' || o.metadata.namespace !== ns) continue;
    const l: Record<string, string> = { ...(o.spec?.template?.metadata?.labels ?? {}) };
    // The live ReplicaSet's hash, so a selector narrowed to it counts the live pods.
    const rs = [...world.cluster.objects.values()].find((x) => x.kind === 'ReplicaSet' && x.metadata.namespace === ns && x.metadata.labels?.['fake/owner'] === `Deployment/${o.metadata.name}`);
    if (rs && sel['pod-template-hash'] === rs.metadata.labels?.['pod-template-hash']) l['pod-template-hash'] = sel['pod-template-hash'];
    if (Object.keys(sel).length === 0 || !Object.entries(sel).every(([k, v]) => l[k] === v)) continue;
    if (l['kube-delivery.dev/track'] === 'green') idle += o.spec.replicas ?? 1;
    else live += o.spec.replicas ?? 1;
  }
  return idle + live === 0 ? 0 : (100 * idle) / (idle + live);
}

const IMAGES = ['', '', '', '-errors', '-crash'];
const RUNS = Number(process.env.KD_CHAOS_RUNS ?? 100);

function routerWeights(world: World, plan: Plan): number[] | undefined {
  const ns = plan.namespace;
  for (const o of world.cluster.objects.values()) {
    if (o.metadata.namespace !== ns) continue;
    if (plan.router === 'istio' && o.kind === 'VirtualService') return o.spec.http[0].route.map((r: { weight: number }) => r.weight);
    if (plan.router === 'gatewayApi' && o.kind === 'HTTPRoute') return o.spec.rules[0].backendRefs.map((r: { weight: number }) => r.weight);
  }
  return undefined;
}

async function chaosRun(seed: number): Promise<string> {
  const r = rng(seed);
  const world = new World(seed);
  const file = FILES[seed % FILES.length];
  const plan = planOf(variant(file));
  const image = plan.image + IMAGES[Math.floor(r() * IMAGES.length)];
  world.cluster.faults = { errorRate: r() < 0.5 ? 0.1 : 0, conflictRate: r() < 0.5 ? 0.3 : 0, cutWatchEvery: r() < 0.5 ? 5 + Math.floor(r() * 20) : undefined };
  let n = 0;
  const mk = () => world.session(plan, `driver-${++n}`, { leaseDurationMs: 3000 });
  let sessions: RolloutSession[] = [mk(), mk()];
  await Promise.all(sessions.map((s) => s.open()));
  let started = await pump(world.clock, sessions[0].start(image, 'chaos'));
  for (let i = 0; !started.ok && i < 20; i++) {
    world.clock.advance(1000);
    await settle();
    started = await pump(world.clock, sessions[0].start(image, 'chaos'));
  }
  assert.ok(started.ok, `seed ${seed}: start failed: ${!started.ok && started.message}`);
  let maxCanary = 0;
  let promoting = false;
  const step = 1000;
  for (let t = 0; t < 4 * 60 * 60_000; t += step) {
    const chaos = t < 6 * 60_000;
    if (!chaos) world.cluster.faults = {};
    world.clock.advance(step);
    await settle(20);
    const live = sessions.filter((s) => !(s as unknown as { disposed: boolean }).disposed);
    const drivers = live.filter((s) => s.isDriver);
    assert.ok(drivers.length <= 1, `seed ${seed}: ${drivers.length} drivers at once`);
    const obs = live[live.length - 1];
    const snap = obs.snapshot();
    const rec = obs.record.current;
    // Invariants.
    if (rec?.outcome) assert.ok(rec.step.startsWith('rollback') || rec.step === 'done', `seed ${seed}: rolling back but at step ${rec.step}: ${rec.events.slice(-8).map((e) => e.reason + ' ' + e.message).join(' | ')}`);
    assert.equal(sumOf(snap.weights.requested), 100, `seed ${seed}: requested ${JSON.stringify(snap.weights.requested)}`);
    assert.equal(sumOf(snap.weights.actual), 100, `seed ${seed}: actual ${JSON.stringify(snap.weights.actual)}`);
    if (rec && plan.strategy === 'canary') {
      if (rec.step.startsWith('promote') || rec.step === 'cleanup') promoting = true;
      const stageMax = promoting ? 100 : Math.max(maxCanary, plan.stages[Math.min(rec.stage, plan.stages.length - 1)].weights.canary);
      maxCanary = Math.max(maxCanary, plan.stages[Math.min(rec.stage, plan.stages.length - 1)].weights.canary);
      assert.ok(snap.weights.requested.canary <= stageMax, `seed ${seed}: canary ${snap.weights.requested.canary}% above stage max ${stageMax}%`);
      const w = routerWeights(world, plan);
      if (w) {
        assert.equal(w.reduce((a, b) => a + b, 0), 100, `seed ${seed}: router weights ${w}`);
        assert.ok((w[1] ?? 0) <= stageMax, `seed ${seed}: router gives canary ${w[1]}% above ${stageMax}%`);
      }
    }
    // The record as the cluster holds it: an observer's copy lags behind the driver's (a cut watch).
    const stored = plan.strategy === 'blueGreen' ? parseDoc(plan.pipeline, world.cluster.objects.get(`v1|ConfigMap|${plan.namespace}|${plan.names.record}`)?.data, 'record') : undefined;
    const held = stored?.ok ? stored.doc.current : undefined;
    if (held && held.switchedAt === undefined && held.applied.active === undefined && held.pending?.kind !== 'switch') {
      // Before the switch the new colour never gets more than the preview share (pods of the new colour
      // selected by the user's Service beside the live ones). A switch recorded as pending may be out.
      const max = plan.blueGreen?.previewWeight ?? 0;
      assert.ok(snap.weights.requested.canary <= max, `seed ${seed}: preview requested ${snap.weights.requested.canary}% > ${max}%`);
      const share = colourShare(world, plan);
      assert.ok(share <= max + 1e-9, `seed ${seed}: the new colour serves ${share.toFixed(1)}% of ${plan.names.service} before the switch (allowed ${max}%)`);
    }
    if (terminal(snap) && !live.some((s) => s.isDriver)) {
      const final = snap;
      const ns = plan.namespace;
      if (plan.strategy === 'canary') {
        assert.equal(world.cluster.objects.has(`apps/v1|Deployment|${ns}|${plan.names.canary}`), false, `seed ${seed}: canary left after ${final.phase}`);
        const w = routerWeights(world, plan);
        if (w) assert.deepEqual(w, [100], `seed ${seed}: router after ${final.phase}`);
      }
      if (final.phase === 'succeeded') assert.ok(!image.includes('-crash'), `seed ${seed}: a crashing image succeeded`);
      assert.ok(final.reason.length > 0);
      world.dispose();
      return `${file} ${image.split(':')[1]} → ${final.phase}`;
    }
    if (chaos) {
      const x = r();
      if (x < 0.01 && drivers.length) {
        drivers[0].kill();
        const s = mk();
        sessions.push(s);
        await s.open();
      } else if (x < 0.02) {
        void obs.act('abort', 'chaos');
      } else if (x < 0.04) {
        void obs.act('promote', 'chaos');
      } else if (x < 0.045) {
        void obs.act('promoteFull', 'chaos');
      } else if (x < 0.055) {
        void obs.act('pause', 'chaos');
      } else if (x < 0.07) {
        void obs.act('resume', 'chaos');
      }
    } else {
      if (snap.phase === 'paused') void obs.act('resume', 'chaos');
      if (snap.gate?.kind === 'manual' || snap.gate?.kind === 'noData') void obs.act('promote', 'chaos');
    }
    sessions = sessions.filter((s) => !(s as unknown as { disposed: boolean }).disposed);
  }
  const last = sessions[sessions.length - 1].snapshot();
  world.dispose();
  throw new Error(`seed ${seed}: ${file} ${image} did not finish: ${last.phase} · ${last.reason}`);
}

describe('chaos: seeded random runs keep the invariants', function () {
  this.timeout(120_000);
  it(`${RUNS} runs with faults, kills, promotes, aborts and pauses`, async () => {
    const outcomes: Record<string, number> = {};
    for (let seed = Number(process.env.KD_CHAOS_FROM ?? 1); seed <= RUNS; seed++) {
      const o = await chaosRun(seed);
      if (process.env.KD_CHAOS_VERBOSE) console.log(seed, o);
      const phase = o.split('→ ')[1];
      outcomes[phase] = (outcomes[phase] ?? 0) + 1;
    }
    // Every kind of ending happened, so the invariants were exercised on each path.
    assert.ok(outcomes.succeeded > 0 && (outcomes.rolledBack ?? 0) > 0 && (outcomes.aborted ?? 0) > 0, JSON.stringify(outcomes));
  });
});
