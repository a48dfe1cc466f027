import assert from 'node:assert/strict';
import type { AttentionEntry } from '../../../src/engine/api';
import type { KubeOps } from '../../../src/engine/ports';
import { createRolloutService } from '../../../src/engine/service';
import { World, examplePipeline, planOf, settle } from './harness';

/** The fake cluster, recording what each watch asks for (kind, namespace). */
function recordingOps(ops: KubeOps, watches: string[]): KubeOps {
  return new Proxy(ops, {
    get(target, prop) {
      if (prop === 'watch') {
        return (...args: Parameters<KubeOps['watch']>) => {
          watches.push(`${args[1]} ${args[2]}`);
          return target.watch(...args);
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('RolloutService.watchAttention: the badge and status bar from the records alone', () => {
  let world: World;
  afterEach(() => world?.dispose());

  /** Collects the stream and waits (in virtual time, with a deadline) for a condition on its latest entries. */
  function collect() {
    let latest: AttentionEntry[] | undefined;
    return {
      listener: (entries: AttentionEntry[]) => {
        latest = entries;
      },
      async until(pred: (entries: AttentionEntry[]) => boolean, what: string, maxMs = 10 * 60_000): Promise<AttentionEntry[]> {
        for (let t = 0; t <= maxMs; t += 500) {
          await settle();
          if (latest && pred(latest)) return latest;
          world.clock.advance(500);
        }
        throw new Error(`${what}: not reached in ${maxMs / 1000}s of virtual time; last: ${JSON.stringify(latest?.map(({ target: _t, ...e }) => e))}`);
      },
    };
  }

  it('shows a run waiting at a manual gate, clears it on promote, with one ConfigMap watch and no Deployment/Pod watches', async () => {
    world = new World();
    const p = examplePipeline('canary-replicas.deploy.yaml');
    const plan = planOf(p);
    const driver = world.session(plan);
    await driver.open();
    const watches: string[] = [];
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: recordingOps(world.cluster, watches) }), clock: world.clock, identity: 'observer' });
    const target = { pipeline: p, environment: 'staging' };
    const seen = collect();
    const sub = svc.watchAttention([target], seen.listener);
    const idle = await seen.until((e) => e.length === 1, 'first entries');
    assert.equal(idle[0].target, target, 'entries carry the caller’s target object');
    assert.deepEqual([idle[0].phase, idle[0].waitsForHuman, idle[0].active], ['idle', false, false]);

    assert.deepEqual(await driver.start(plan.image, 'test'), { ok: true });
    const active = await seen.until((e) => e[0].active, 'run active');
    assert.equal(active[0].waitsForHuman, false, 'progressing does not ask for a human');
    const atGate = await seen.until((e) => e[0].waitsForHuman, 'manual gate');
    assert.deepEqual([atGate[0].phase, atGate[0].gateKind, atGate[0].active, atGate[0].runId], ['waiting', 'manual', true, driver.record.current?.runId]);
    assert.equal(driver.snapshot().gate?.kind, 'manual', 'the session agrees');

    assert.deepEqual(await driver.act('promote', 'alice'), { ok: true });
    const after = await seen.until((e) => !e[0].waitsForHuman, 'promote clears the wait');
    assert.notEqual(after[0].gateKind, 'manual');
    assert.deepEqual(watches, ['ConfigMap checkout-staging'], 'one ConfigMap watch, nothing per target');
    sub.dispose();
    svc.dispose();
  });

  it('two pipelines in one namespace share one watch; another namespace adds one; entries follow input order', async () => {
    world = new World();
    const a = examplePipeline('canary-replicas.deploy.yaml');
    const b = { ...a, name: 'cart', file: '/x/cart.deploy.yaml' };
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock, identity: 'observer' });
    const before = world.cluster.stats().byVerb.watch ?? 0;
    const seen = collect();
    const targets = [
      { pipeline: a, environment: 'staging' },
      { pipeline: b, environment: 'staging' },
      { pipeline: a, environment: 'production' },
    ];
    const sub = svc.watchAttention(targets, seen.listener);
    const entries = await seen.until((e) => e.length === 3, 'entries');
    assert.deepEqual(entries.map((e) => `${e.pipeline}@${e.environment}`), ['checkout@staging', 'cart@staging', 'checkout@production']);
    assert.equal((world.cluster.stats().byVerb.watch ?? 0) - before, 2, 'checkout-staging (two pipelines) + checkout');

    // A run of one pipeline shows on its entry only, read from its own record.
    const driver = world.session(planOf(b));
    await driver.open();
    await driver.start(b.image, 'test');
    const waiting = await seen.until((e) => e[1].waitsForHuman, 'cart waits');
    assert.deepEqual(waiting.map((e) => e.waitsForHuman), [false, true, false]);
    sub.dispose();
    svc.dispose();
  });

  it('an unreachable cluster or an invalid target carries no attention, explained', async () => {
    world = new World();
    const p = examplePipeline('canary-replicas.deploy.yaml');
    const svc = createRolloutService({
      connect: (_a, context) => (context === 'prod-eu' ? { ok: false, message: "context 'prod-eu' not found" } : { ok: true, ops: world.cluster }),
      clock: world.clock,
    });
    const seen = collect();
    const sub = svc.watchAttention([{ pipeline: p, environment: 'production' }, { pipeline: p, environment: 'qa' }], seen.listener);
    const entries = await seen.until((e) => e.length === 2, 'entries');
    assert.deepEqual(entries.map((e) => [e.error?.kind, e.waitsForHuman, e.active]), [['unreachable', false, false], ['invalid', false, false]]);
    assert.match(entries[0].error!.message, /prod-eu/);
    sub.dispose();
    svc.dispose();
  });

  it('a damaged record is an error on its entry only (no attention), and stops being one once repaired', async () => {
    world = new World();
    const p = examplePipeline('canary-replicas.deploy.yaml');
    const plan = planOf(p);
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock });
    const seen = collect();
    const sub = svc.watchAttention([{ pipeline: p, environment: 'staging' }], seen.listener);
    await seen.until((e) => e.length === 1, 'entries');
    const labels = { 'kube-delivery.dev/pipeline': 'checkout', 'kube-delivery.dev/managed-by': 'kube-delivery' };
    const cm = await world.cluster.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: plan.names.record, namespace: plan.namespace, labels }, data: { 'record.json': '{nope' } });
    const bad = await seen.until((e) => e[0].error !== undefined, 'damaged record reported');
    assert.deepEqual([bad[0].error?.kind, bad[0].waitsForHuman], ['invalid', false]);
    await world.cluster.replace({ ...cm, data: { 'record.json': JSON.stringify({ format: 1, pipeline: 'checkout', history: [], requests: [] }) } });
    const fixed = await seen.until((e) => e[0].error === undefined, 'repaired');
    assert.equal(fixed[0].phase, 'idle');
    sub.dispose();
    svc.dispose();
  });
});
