import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/sandbox/api/store';
import { fenceposts, podTemplateHash, REVISION, HASH_LABEL } from '../../../../src/sandbox/sim/deployment';
import { podIsAvailable, podIsTerminal } from '../../../../src/sandbox/sim/k8s';
import { withHarness, deployment, setImage, status, condition, rolloutState, podsOf, type Harness } from './helpers';

const get = (h: Harness, name = 'web', ns = 'demo') => h.store.tryGet('deployments.apps', ns, name);
const replicaSets = (h: Harness, ns = 'demo') => h.store.list('replicasets.apps', ns).items;

describe('sandbox Deployment controller', () => {
  let h: Harness;
  const restart = withHarness((x) => (h = x), { namespaces: ['demo'] });

  it('resolves maxSurge up and maxUnavailable down, never both zero', () => {
    assert.deepEqual(fenceposts({ replicas: 10, maxSurge: '25%', maxUnavailable: '25%' }), { surge: 3, unavailable: 2 });
    assert.deepEqual(fenceposts({ replicas: 4, maxSurge: undefined, maxUnavailable: undefined }), { surge: 1, unavailable: 1 });
    assert.deepEqual(fenceposts({ replicas: 3, maxSurge: 0, maxUnavailable: 0 }), { surge: 0, unavailable: 1 });
    assert.deepEqual(fenceposts({ replicas: 2, maxSurge: 1, maxUnavailable: 5 }), { surge: 1, unavailable: 2 });
  });

  it('creates <name>-<hash> ReplicaSets and pods with owner references, labels and nodes', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 3 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    const d = get(h)!;
    const [rs] = replicaSets(h);
    const hash = rs.metadata.labels![HASH_LABEL];
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(hash, podTemplateHash((d.spec as { template: unknown }).template));
    assert.deepEqual((rs.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, { app: 'web', [HASH_LABEL]: hash });
    assert.equal(rs.metadata.annotations![REVISION], '1');
    assert.equal(d.metadata.annotations![REVISION], '1');
    // The revision annotation goes through /status like kube-controller-manager's: no generation bump.
    assert.equal(d.metadata.generation, 1);
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const pods = h.store.list('pods', 'demo').items;
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata.name!, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.ownerReferences![0].uid, rs.metadata.uid);
      assert.equal(p.metadata.labels![HASH_LABEL], hash);
      assert.match((p.spec as { nodeName: string }).nodeName, /^sandbox-node-[123]$/);
      assert.equal(status<{ phase: string }>(p).phase, 'Running');
    }
    const s = status<Record<string, number>>(d);
    assert.deepEqual([s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas, s.observedGeneration], [3, 3, 3, 3, undefined, d.metadata.generation]);
    assert.equal(condition(d, 'Available')?.reason, 'MinimumReplicasAvailable');
    assert.equal(condition(d, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    const events = h.store.list('events', 'demo').items.filter((e) => (e as { reason?: string }).reason === 'ScalingReplicaSet');
    assert.equal(events.length, 1);
    assert.equal((events[0] as { message?: string }).message, `Scaled up replica set web-${hash} from 0 to 3`);
    assert.deepEqual((events[0] as unknown as { involvedObject: Record<string, unknown> }).involvedObject.uid, d.metadata.uid);
  });

  for (const c of [
    { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } }, minReadySeconds: 0 },
    { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } }, minReadySeconds: 0, batching: 'immediate' as const },
    { replicas: 4, strategy: undefined, minReadySeconds: 5 },
    { replicas: 5, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, minReadySeconds: 0 },
    { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: 0 } }, minReadySeconds: 2 },
  ]) {
    it(`rolling update keeps surge/unavailable bounds at every write (${c.replicas} replicas, ${JSON.stringify(c.strategy?.rollingUpdate ?? 'defaults')}, minReady ${c.minReadySeconds}${'batching' in c ? `, ${c.batching} batching` : ''})`, async () => {
      if ('batching' in c) restart({ batching: c.batching });
      h.store.create('deployments.apps', deployment({ replicas: c.replicas, strategy: c.strategy, minReadySeconds: c.minReadySeconds }));
      assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 120_000));
      const ru = (c.strategy?.rollingUpdate ?? {}) as { maxSurge?: unknown; maxUnavailable?: unknown };
      const { surge, unavailable } = fenceposts({ replicas: c.replicas, maxSurge: ru.maxSurge, maxUnavailable: ru.maxUnavailable });
      let maxPods = 0;
      let minAvailable = Infinity;
      let writes = 0;
      const check = () => {
        const pods = podsOf(h.store, 'demo', { app: 'web' }).filter((p) => !podIsTerminal(p));
        const available = pods.filter((p) => podIsAvailable(p, c.minReadySeconds, h.clock.now())).length;
        maxPods = Math.max(maxPods, pods.length);
        minAvailable = Math.min(minAvailable, available);
        writes++;
      };
      const off = h.store.onChange(check);
      setImage(h.store, 'demo', 'web', 'registry.example.com/web:2.0.0');
      assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 600_000), 'rollout completes');
      off();
      assert.ok(writes > 10);
      assert.ok(maxPods <= c.replicas + surge, `pods ${maxPods} <= ${c.replicas} + ${surge}`);
      assert.ok(minAvailable >= c.replicas - unavailable, `available ${minAvailable} >= ${c.replicas} - ${unavailable}`);
      assert.ok(maxPods > c.replicas || minAvailable < c.replicas, 'the rollout used its budget');
      const pods = podsOf(h.store, 'demo', { app: 'web' });
      assert.equal(pods.length, c.replicas);
      assert.ok(pods.every((p) => (p.spec as { containers: { image: string }[] }).containers[0].image.endsWith(':2.0.0')));
      const rss = replicaSets(h);
      assert.equal(rss.length, 2);
      assert.deepEqual(rss.map((r) => (r.spec as { replicas: number }).replicas).sort(), [0, c.replicas]);
      assert.equal(get(h)!.metadata.annotations![REVISION], '2');
    });
  }

  it('a crash-looping image hits ProgressDeadlineExceeded with rising restarts and Ready False', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 2, progressDeadlineSeconds: 120 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    setImage(h.store, 'demo', 'web', 'registry.example.com/web:2.0.0-crash');
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'failed', 400_000, 2_000));
    const d = get(h)!;
    assert.equal(condition(d, 'Progressing')?.status, 'False');
    assert.match(condition(d, 'Progressing')!.message!, /has timed out progressing/);
    const crashing = podsOf(h.store, 'demo', { app: 'web' }).filter((p) => (p.spec as { containers: { image: string }[] }).containers[0].image.endsWith('-crash'));
    assert.ok(crashing.length >= 1);
    for (const p of crashing) {
      const cs = status<{ containerStatuses: { restartCount: number; ready: boolean; state: Record<string, { reason?: string }>; lastState: Record<string, { exitCode?: number }> }[] }>(p).containerStatuses[0];
      assert.ok(cs.restartCount >= 2, `restartCount ${cs.restartCount}`);
      assert.equal(cs.ready, false);
      assert.ok(cs.state.waiting?.reason === 'CrashLoopBackOff' || cs.state.running !== undefined);
      assert.equal(cs.lastState.terminated?.exitCode, 2);
      assert.equal(condition(p, 'Ready')?.status, 'False');
    }
    // The stable version keeps serving (maxUnavailable 25% of 2 = 0).
    assert.equal(status<{ availableReplicas: number }>(d).availableReplicas, 2);
    const warnings = h.store.list('events', 'demo').items.filter((e) => (e as { reason?: string }).reason === 'BackOff');
    assert.ok(warnings.length >= 1);
  });

  it('an unready image stays Running with Ready False (ContainersNotReady) and never completes', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 1, image: 'web:1-unready', progressDeadlineSeconds: 60 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'failed', 200_000, 2_000));
    const [p] = podsOf(h.store, 'demo', { app: 'web' });
    assert.equal(status<{ phase: string }>(p).phase, 'Running');
    assert.equal(condition(p, 'Ready')?.reason, 'ContainersNotReady');
    assert.equal(condition(get(h), 'Available')?.status, 'False');
  });

  it('Recreate removes every old pod before starting new ones', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 3, strategy: { type: 'Recreate' } }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    let mixed = false;
    const off = h.store.onChange(() => {
      const images = new Set(podsOf(h.store, 'demo', { app: 'web' }).map((p) => (p.spec as { containers: { image: string }[] }).containers[0].image));
      if (images.size > 1) mixed = true;
    });
    setImage(h.store, 'demo', 'web', 'web:2');
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 120_000));
    off();
    assert.equal(mixed, false);
    assert.equal(podsOf(h.store, 'demo', { app: 'web' }).length, 3);
  });

  it('scales up and down, proportionally during a rollout', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 2 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 6));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done' && status<{ availableReplicas: number }>(get(h)).availableReplicas === 6, 60_000));
    assert.equal(podsOf(h.store, 'demo', { app: 'web' }).length, 6);
    // Mid-rollout (a crash image keeps both RSs active), scale 6 -> 10: both grow.
    setImage(h.store, 'demo', 'web', 'web:2-crash');
    await h.clock.advance(10_000);
    const before = replicaSets(h).map((r) => (r.spec as { replicas: number }).replicas);
    assert.ok(before.every((n) => n > 0), `both active: ${before}`);
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 10));
    await h.clock.advance(2_000);
    const after = replicaSets(h).map((r) => (r.spec as { replicas: number }).replicas);
    assert.ok(after.reduce((a, b) => a + b, 0) <= 10 + 3);
    assert.ok(after.every((n, i) => n >= before[i]), `proportional growth ${before} -> ${after}`);
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 0));
    assert.ok(await h.clock.advanceUntil(() => podsOf(h.store, 'demo', { app: 'web' }).length === 0, 60_000));
  });

  it('a paused Deployment does not roll out until resumed', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 2 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { paused: boolean }).paused = true));
    setImage(h.store, 'demo', 'web', 'web:2');
    await h.clock.advance(30_000);
    assert.equal(replicaSets(h).length, 1);
    assert.equal(condition(get(h), 'Progressing')?.reason, 'DeploymentPaused');
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { paused: boolean }).paused = false));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done' && replicaSets(h).length === 2, 60_000));
  });

  it('rollback (kubectl rollout undo) reuses the old ReplicaSet with the next revision', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 2 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    const firstRs = replicaSets(h)[0];
    setImage(h.store, 'demo', 'web', 'web:2');
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done' && replicaSets(h).length === 2, 60_000));
    // What kubectl does: copy the old RS template without the hash label onto the Deployment.
    h.store.modify('deployments.apps', 'demo', 'web', (d) => {
      const t = structuredClone((firstRs.spec as { template: { metadata: { labels: Record<string, string> } } }).template);
      delete t.metadata.labels[HASH_LABEL];
      (d.spec as { template: unknown }).template = t;
    });
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done' && (replicaSets(h).find((r) => r.metadata.uid === firstRs.metadata.uid)?.status as { availableReplicas?: number })?.availableReplicas === 2, 60_000));
    const rss = replicaSets(h);
    assert.equal(rss.length, 2, 'no third ReplicaSet');
    const back = rss.find((r) => r.metadata.uid === firstRs.metadata.uid)!;
    assert.equal(back.metadata.annotations![REVISION], '3');
    assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(get(h)!.metadata.annotations![REVISION], '3');
  });

  it('deleting a Deployment removes its ReplicaSets and pods for good', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 3 }));
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    h.store.delete('deployments.apps', 'demo', 'web');
    await h.clock.advance(120_000);
    assert.equal(replicaSets(h).length, 0);
    assert.equal(h.store.list('pods', 'demo').items.length, 0);
  });

  it('keeps revisionHistoryLimit old ReplicaSets', async () => {
    const d = deployment({ replicas: 1 });
    (d.spec as { revisionHistoryLimit: number }).revisionHistoryLimit = 1;
    h.store.create('deployments.apps', d);
    for (const v of ['2', '3', '4']) {
      assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
      setImage(h.store, 'demo', 'web', `web:${v}`);
      await h.clock.advance(1_000);
    }
    assert.ok(await h.clock.advanceUntil(() => rolloutState(get(h)) === 'done', 60_000));
    await h.clock.advance(1_000);
    const rss: KubeObject[] = replicaSets(h);
    assert.equal(rss.length, 2);
  });
});
