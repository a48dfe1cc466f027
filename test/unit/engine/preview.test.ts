// Blue-green previewWeight without a traffic router: the active Service selects both colours while the
// new colour runs the pods of its share, and only the live colour otherwise; abort takes the share away
// in one write. Checked write by write against the fake cluster.
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/engine/ports';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { previewPods } from '../../../src/engine/machine';
import { sumOf } from '../../../src/engine/weights';
import type { Write } from './fake-cluster';
import { World, examplePipeline, planOf, terminal } from './harness';

const withPreview = (weight: number, autoPromote = false) =>
  examplePipeline('blue-green.deploy.yaml', (t) => t.replace('scaleDownDelay: 30s', `scaleDownDelay: 30s\n    previewWeight: ${weight}`).replace('autoPromote: true', `autoPromote: ${autoPromote}`));

const matches = (sel: Record<string, string>, labels: Record<string, string> = {}) => Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);

/**
 * Replays the writes: after each one, the share of Service `svc` the new colour may get (its replicas
 * over all selected replicas, when its pods are selected) must not exceed `max` before the switch.
 */
function assertShareBounded(writes: Write[], svc: string, live: string, idle: string, max: number, initial: { selector: Record<string, string>; live?: KubeObject }): void {
  let selector = initial.selector;
  let liveDep: KubeObject | undefined = initial.live;
  let idleDep: KubeObject | undefined;
  let switched = false;
  for (const w of writes) {
    if (w.kind === 'Service' && w.name === svc && w.object) selector = w.object.spec.selector;
    if (w.kind === 'Deployment' && w.name === idle) idleDep = w.verb === 'delete' ? undefined : w.object ?? idleDep;
    if (w.kind === 'Deployment' && w.name === live && w.object) liveDep = w.object;
    if (idleDep && matches(selector, { ...idleDep.spec.template.metadata.labels, 'pod-template-hash': 'new' }) && selector['kube-delivery.dev/track'] === idleDep.spec.template.metadata.labels['kube-delivery.dev/track']) switched = true;
    if (switched || !idleDep) continue;
    const idleSelected = matches(selector, idleDep.spec.template.metadata.labels);
    if (!idleSelected) continue;
    const n = idleDep.spec.replicas as number;
    const l = liveDep && matches(selector, liveDep.spec.template.metadata.labels) ? (liveDep.spec.replicas as number) : 0;
    assert.ok((100 * n) / (n + l) <= max + 1e-9, `write #${w.seq} (${w.verb} ${w.kind} ${w.name}): the new colour's ${n} pods beside ${l} live get more than ${max}%`);
  }
}

describe('engine: blue-green preview traffic without a router', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it('previewPods never gives the new colour more than its weight', () => {
    for (let live = 1; live <= 20; live++) {
      for (let w = 1; w <= 99; w++) {
        const k = previewPods(live, w);
        if (k > 0) assert.ok((100 * k) / (k + live) <= w + 1e-9, `${k} beside ${live} for ${w}%`);
        assert.ok((100 * (k + 1)) / (k + 1 + live) > w, `${k + 1} pods would still fit under ${w}% beside ${live}`);
      }
    }
  });

  it('shares 25% through the user Service by pod count, narrows it outside the preview and switches in one write', async () => {
    world = new World();
    const plan = planOf(withPreview(25));
    const s = world.session(plan);
    await s.open();
    const ns = plan.namespace;
    const from = world.cluster.writes.length;
    await s.start(plan.image, 'test');
    const seen: RolloutSnapshot[] = [];
    s.subscribe((x) => seen.push(x));
    const gate = await world.until(s, (x) => x.gate?.kind === 'manual');
    assert.deepEqual(gate.weights.requested, { canary: 25, baseline: 0, current: 75 });
    assert.deepEqual(gate.weights.actual, { canary: 25, baseline: 0, current: 75 }, '1 new pod beside 3 live ready pods');
    assert.deepEqual(gate.stages[0].weights, { canary: 25, baseline: 0, current: 75 });
    const green = (await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'profile-green' }))!;
    assert.equal(green.spec.replicas, 1);
    const svc = (await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'profile' }))!;
    assert.deepEqual(svc.spec.selector, { app: 'profile' }, 'preview: the user selector selects both colours');
    assert.equal(green.spec.template.metadata.labels.app, 'profile');
    assert.ok(gate.events.some((e) => /preview: 1 pod of the new colour beside 3 live get about 25%/.test(e.message)));

    assert.deepEqual(await s.act('promote', 'test'), { ok: true });
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'succeeded', done.reason);
    const after = (await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'profile' }))!;
    assert.deepEqual(after.spec.selector, { 'kube-delivery.dev/pipeline': 'profile', 'kube-delivery.dev/track': 'green' });
    assert.equal((await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'profile-green' }))!.spec.replicas, 3, 'full size before the switch');
    const writes = world.cluster.writes.slice(from);
    // The namespace starts empty: the manifests' creates are among the writes.
    assertShareBounded(writes, 'profile', 'profile', 'profile-green', 25, { selector: {} });
    // Selector history: the user's -> narrowed (live hash) -> the user's (preview) -> narrowed -> the new colour.
    // (Each selector once: the manifests' own apply writes leave it as it is.)
    const selectors = writes.filter((w) => w.kind === 'Service' && w.name === 'profile').map((w) => Object.keys(w.object!.spec.selector).sort().join(','));
    const changes = selectors.filter((x, i) => i === 0 || x !== selectors[i - 1]);
    assert.deepEqual(changes, ['app', 'app,pod-template-hash', 'app', 'app,pod-template-hash', 'kube-delivery.dev/pipeline,kube-delivery.dev/track']);
    for (const x of seen) {
      assert.equal(sumOf(x.weights.requested), 100);
      assert.equal(sumOf(x.weights.actual), 100);
      if (x.phase !== 'succeeded' && x.stage.index === 0) assert.ok(x.weights.requested.canary <= 25);
    }
  });

  it('abort during the preview takes the share away in one write, removes the new colour, then gives the Service its selector back', async () => {
    world = new World();
    const plan = planOf(withPreview(25));
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    await world.until(s, (x) => x.gate?.kind === 'manual');
    const from = world.cluster.writes.length;
    assert.deepEqual(await s.act('abort', 'bob'), { ok: true });
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'aborted');
    const writes = world.cluster.writes.slice(from).filter((w) => w.kind === 'Service' || w.kind === 'Deployment');
    assert.deepEqual(
      writes.map((w) => `${w.verb} ${w.kind} ${w.name}`),
      ['patch Service profile', 'delete Deployment profile-green', 'patch Service profile'],
    );
    assert.deepEqual(Object.keys(writes[0].object!.spec.selector).sort(), ['app', 'pod-template-hash'], 'first write: live pods only');
    assert.deepEqual(writes[2].object!.spec.selector, { app: 'profile' }, 'last write: the user selector again');
    assert.deepEqual(done.weights.actual, { canary: 0, baseline: 0, current: 100 });
  });

  it('a weight below one pod share sends nothing and says why', async () => {
    world = new World();
    const plan = planOf(withPreview(10, true));
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'succeeded');
    assert.ok(done.events.some((e) => /no preview traffic: previewWeight 10% is less than one pod's share beside 3 live pods \(at least 9 live pods needed\)/.test(e.message)));
    assert.ok(done.timeline.every((t) => t.requested.canary === 0 || t.requested.canary === 100), 'no preview share requested');
  });
});
