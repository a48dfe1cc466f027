// Manifests are applied with server-side apply on every run (not only created when missing), keeping
// the fields the engine steers (app image, replicas, blue-green's active selector) at their live values.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pipeline } from '../../../src/deployfile/model';
import { EXAMPLES, World, examplePipeline, planOf, terminal } from './harness';

describe('engine: manifests applied server-side on every run', () => {
  let world: World;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kd-manifests-'));
  });
  afterEach(() => {
    world?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An example pipeline whose manifest is a copy in `dir` the test may edit between runs. */
  function withManifestCopy(file: string, manifest: string): { pipeline: Pipeline; path: string } {
    const path = join(dir, manifest.split('/').pop()!);
    writeFileSync(path, readFileSync(join(EXAMPLES, manifest), 'utf8'));
    return { pipeline: { ...examplePipeline(file), manifests: [path] }, path };
  }

  it('a changed manifest updates the live objects; the rolled-out image and replicas stay', async () => {
    world = new World();
    const { pipeline, path } = withManifestCopy('simple.deploy.yaml', 'k8s/hello.yaml');
    const plan = planOf(pipeline);
    const s = world.session(plan);
    await s.open();
    await s.start('registry.example.com/hello:2.1.0', 'test');
    const first = await world.until(s, terminal);
    assert.equal(first.phase, 'succeeded', first.reason);
    assert.ok(first.events.some((e) => /manifests applied \(server-side, field manager kube-delivery\): 2 created, 0 changed, 0 unchanged/.test(e.message)));
    // Someone scaled the app meanwhile; the manifest gains a label on its Service.
    await world.cluster.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: 'hello' }, { spec: { replicas: 5 } });
    writeFileSync(path, readFileSync(path, 'utf8').replace(/kind: Service\nmetadata:\n {2}name: hello\n/, 'kind: Service\nmetadata:\n  name: hello\n  annotations:\n    team: web\n'));
    await s.start('registry.example.com/hello:2.2.0', 'test');
    const second = await world.until(s, (x) => terminal(x) && x.toImage === 'registry.example.com/hello:2.2.0');
    assert.equal(second.phase, 'succeeded', second.reason);
    assert.ok(second.events.some((e) => /manifests applied .*: 0 created, 1 changed, 1 unchanged/.test(e.message)), second.events.map((e) => e.message).join('\n'));
    assert.equal(second.fromImage, 'registry.example.com/hello:2.1.0', 'the manifest did not roll the app back to its old image');
    const svc = await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: plan.namespace, name: 'hello' });
    assert.equal(svc?.metadata.annotations?.team, 'web');
    const dep = await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: 'hello' });
    assert.equal(dep?.spec.replicas, 5, 'replicas are the live ones');
    assert.ok(world.cluster.applies.length >= 4 && world.cluster.applies.every((a) => a.fieldManager === 'kube-delivery' && a.force));
  });

  it('blue-green: applying the manifests again keeps the Service on the live colour', async () => {
    world = new World();
    const { pipeline } = withManifestCopy('blue-green.deploy.yaml', 'k8s/profile.yaml');
    const plan = planOf(pipeline);
    const s = world.session(plan);
    await s.open();
    await s.start(plan.image, 'test');
    assert.equal((await world.until(s, terminal)).phase, 'succeeded');
    await s.start('registry.example.com/profile:4.1.0', 'test');
    const second = await world.until(s, (x) => terminal(x) && x.toImage === 'registry.example.com/profile:4.1.0');
    assert.equal(second.phase, 'succeeded', second.reason);
    assert.ok(second.events.some((e) => /manifests applied .*: 0 created, 0 changed, 2 unchanged/.test(e.message)), second.events.map((e) => e.message).join('\n'));
    const svc = await world.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: plan.namespace, name: 'profile' });
    assert.deepEqual(svc?.spec.selector, { 'kube-delivery.dev/pipeline': 'profile', 'kube-delivery.dev/track': 'blue' }, 'green then blue: the second run switched to blue');
    const old = await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: 'profile' });
    assert.equal(old?.spec.replicas, 0, 'the scaled-down original stays down');
  });
  it('a prepare that waits for the Deployment its manifests created keeps in the record what the first attempt did', async () => {
    // previewWeight narrows the Service to the live pods, which needs the Deployment rolled out: the
    // attempt that creates it fails transiently and is retried. The retry finds everything created and
    // applies 'unchanged'; the record must still say what was created, and when.
    world = new World();
    const pipeline = examplePipeline('blue-green.deploy.yaml', (t) => t.replace('scaleDownDelay: 30s', 'scaleDownDelay: 30s\n    previewWeight: 25').replace('autoPromote: true', 'autoPromote: false'));
    const plan = planOf(pipeline);
    const s = world.session(plan);
    await s.open();
    assert.equal(await world.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: plan.namespace, name: 'profile' }), undefined, 'the namespace starts empty');
    await s.start(plan.image, 'test');
    const gate = await world.until(s, (x) => x.gate?.kind === 'manual' || terminal(x));
    assert.equal(gate.gate?.kind, 'manual', gate.reason);
    const applied = gate.events.filter((e) => /^manifests applied /.test(e.message)).map((e) => e.message.replace(/^.*: /, ''));
    assert.equal(applied[0], '2 created, 0 changed, 0 unchanged', gate.events.map((e) => e.message).join('\n'));
    assert.ok(applied.length >= 2, 'prepare was retried (the Deployment had to roll out first)');
    assert.equal(applied[applied.length - 1], '0 created, 0 changed, 2 unchanged', 'the retry changed nothing more');
    assert.equal(gate.events.filter((e) => /created, \d+ changed/.test(e.message) && !/: 0 created, 0 changed/.test(e.message)).length, 1, 'a change is recorded once');
  });
});
