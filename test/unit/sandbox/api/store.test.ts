import assert from 'node:assert/strict';
import { Store, ApiError, type KubeObject, type WatchDelivery, type ChangeEvent } from '../../../../src/sandbox/api/index';

function deployment(name: string, ns = 'default', labels: Record<string, string> = { app: name }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
    },
    status: { replicas: 99 },
  };
}

function fresh(opts: ConstructorParameters<typeof Store>[0] = {}): Store {
  const s = new Store(opts);
  s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  return s;
}

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  assert.fail('expected an ApiError');
}

describe('sandbox store', () => {
  it('create stamps uid, creationTimestamp, generation 1, a global resourceVersion, clears status and applies defaults', () => {
    const s = fresh({ now: () => Date.parse('2026-01-02T03:04:05.678Z') });
    const before = Number(s.resourceVersion);
    const d = s.create('deployments.apps', deployment('web'));
    assert.equal(d.metadata.generation, 1);
    assert.equal(d.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
    assert.match(d.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(d.metadata.resourceVersion, String(before + 1));
    assert.equal(d.status, undefined);
    const spec = d.spec as { strategy: { type: string; rollingUpdate: { maxSurge: string } }; progressDeadlineSeconds: number };
    assert.equal(spec.strategy.type, 'RollingUpdate');
    assert.equal(spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(spec.progressDeadlineSeconds, 600);
    assert.ok(Object.isFrozen(d) && Object.isFrozen(d.metadata), 'stored objects are frozen');
    const cm = s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'other' }, data: { a: 'b' } });
    assert.equal(cm.metadata.resourceVersion, String(before + 2), 'one counter across resources');
  });

  it('metadata.generation only on the kinds whose registry tracks it (workloads, Ingress, custom resources)', () => {
    const s = fresh();
    const cm = s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', generation: 7 } as KubeObject['metadata'], data: { a: '1' } });
    assert.equal(cm.metadata.generation, undefined, 'a client cannot set it either');
    const cm2 = s.update('configmaps', { ...cm, metadata: { ...cm.metadata }, data: { a: '2' } });
    assert.equal(cm2.metadata.generation, undefined);
    const svc = s.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    assert.equal(svc.metadata.generation, undefined);
    const pod = s.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    assert.equal(pod.metadata.generation, undefined);
    const ing = s.create('ingresses.networking.k8s.io', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' }, spec: { rules: [] } });
    assert.equal(ing.metadata.generation, 1);
    const vs = s.create('virtualservices.networking.istio.io', { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'default' }, spec: { hosts: ['a'] } });
    assert.equal(vs.metadata.generation, 1);
    assert.equal(s.update('virtualservices.networking.istio.io', { ...vs, metadata: { ...vs.metadata }, spec: { hosts: ['b'] } }).metadata.generation, 2);
  });

  it('rejects duplicates (409), unknown namespaces (404) and invalid objects (422 with causes)', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web'));
    assert.equal(code(() => s.create('deployments.apps', deployment('web'))), 409);
    assert.equal(code(() => s.create('deployments.apps', deployment('web', 'nope'))), 404);
    const bad = deployment('Bad_Name');
    (bad.spec as { template: { metadata: { labels: object } } }).template.metadata.labels = { app: 'other' };
    try {
      s.create('deployments.apps', bad);
      assert.fail('expected 422');
    } catch (e) {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 422);
      assert.equal(e.reason, 'Invalid');
      const fields = e.status.details!.causes!.map((c) => c.field);
      assert.deepEqual(fields.sort(), ['metadata.name', 'spec.template.metadata.labels']);
    }
  });

  it('update: stale resourceVersion is 409, empty is unconditional for built-ins and 422 for custom resources', () => {
    const s = fresh();
    const d = s.create('deployments.apps', deployment('web'));
    const next = structuredClone(d) as KubeObject;
    (next.spec as { replicas: number }).replicas = 5;
    const updated = s.update('deployments.apps', next);
    assert.equal(updated.metadata.generation, 2);
    assert.equal(code(() => s.update('deployments.apps', next)), 409, 'same (now stale) resourceVersion');
    const unconditional = structuredClone(updated) as KubeObject;
    delete unconditional.metadata.resourceVersion;
    (unconditional.spec as { replicas: number }).replicas = 6;
    assert.equal((s.update('deployments.apps', unconditional).spec as { replicas: number }).replicas, 6);
    const vs = s.create('virtualservices.networking.istio.io', { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'default' }, spec: { hosts: ['a'] } });
    const vs2 = structuredClone(vs) as KubeObject;
    delete vs2.metadata.resourceVersion;
    assert.equal(code(() => s.update('virtualservices.networking.istio.io', vs2)), 422);
  });

  it('keeps status on main-resource writes, changes only status through the status subresource, and skips no-op writes', () => {
    const s = fresh();
    const d = s.create('deployments.apps', deployment('web'));
    const st = s.modify('deployments.apps', 'default', 'web', (o) => void (o.status = { replicas: 2, observedGeneration: 1 }), { subresource: 'status' });
    assert.deepEqual(st.status, { replicas: 2, observedGeneration: 1 });
    assert.equal(st.metadata.generation, 1, 'status writes do not bump generation');
    const main = structuredClone(st) as KubeObject;
    main.status = { replicas: 0 };
    main.metadata.labels = { app: 'web', extra: 'yes' };
    const after = s.update('deployments.apps', main);
    assert.deepEqual(after.status, { replicas: 2, observedGeneration: 1 }, 'main update keeps stored status');
    assert.equal(after.metadata.generation, 1, 'label change is not a spec change');
    const viaStatus = structuredClone(after) as KubeObject;
    (viaStatus.spec as { replicas: number }).replicas = 42;
    viaStatus.status = { replicas: 3 };
    const st2 = s.update('deployments.apps', viaStatus, { subresource: 'status' });
    assert.equal((st2.spec as { replicas: number }).replicas, 2, 'status subresource ignores spec');
    assert.deepEqual(st2.status, { replicas: 3 });
    const annotated = s.modify('deployments.apps', 'default', 'web', (o) => void (o.metadata.annotations = { a: 'b' }));
    assert.equal(annotated.metadata.generation, 2, 'annotation change bumps generation');
    const rv = s.resourceVersion;
    const same = s.modify('deployments.apps', 'default', 'web', () => undefined);
    assert.equal(same, annotated);
    assert.equal(s.resourceVersion, rv, 'no-op write does not bump resourceVersion');
    assert.ok(d.metadata.uid === same.metadata.uid);
  });

  it('lists by namespace and selectors, sorted, with the current resourceVersion', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('b', 'default', { app: 'b', track: 'stable' }));
    s.create('deployments.apps', deployment('a', 'default', { app: 'a', track: 'canary' }));
    s.create('deployments.apps', deployment('c', 'other', { app: 'c' }));
    assert.deepEqual(s.list('deployments.apps').items.map((o) => o.metadata.name), ['a', 'b', 'c']);
    assert.deepEqual(s.list('deployments.apps', 'default').items.map((o) => o.metadata.name), ['a', 'b']);
    assert.deepEqual(s.list('deployments.apps', undefined, { labelSelector: 'track in (stable,canary),app!=a' }).items.map((o) => o.metadata.name), ['b']);
    assert.deepEqual(s.list('deployments.apps', undefined, { labelSelector: '!track' }).items.map((o) => o.metadata.name), ['c']);
    assert.deepEqual(s.list('deployments.apps', undefined, { fieldSelector: 'metadata.namespace=other' }).items.map((o) => o.metadata.name), ['c']);
    assert.deepEqual(s.list('deployments.apps', undefined, { fieldSelector: 'metadata.name!=a,metadata.namespace==default' }).items.map((o) => o.metadata.name), ['b']);
    assert.equal(s.list('deployments.apps').resourceVersion, s.resourceVersion);
  });

  it('watch from a resourceVersion replays later changes; too old is 410; unset sends synthetic ADDED', () => {
    const s = fresh({ historySize: 3 });
    const d = s.create('deployments.apps', deployment('web'));
    const seen: string[] = [];
    const w = s.watch('deployments.apps', 'default', d.metadata.resourceVersion, undefined, (e) => seen.push(`${e.type}:${(e.object.spec as { replicas: number }).replicas}`));
    s.modify('deployments.apps', 'default', 'web', (o) => void ((o.spec as { replicas: number }).replicas = 3));
    s.delete('deployments.apps', 'default', 'web');
    w.stop();
    assert.deepEqual(seen, ['MODIFIED:3', 'DELETED:3']);
    const replay: string[] = [];
    s.watch('deployments.apps', undefined, d.metadata.resourceVersion, undefined, (e) => replay.push(e.type)).stop();
    assert.deepEqual(replay, ['MODIFIED', 'DELETED']);
    for (let i = 0; i < 4; i++) s.create('deployments.apps', deployment(`x${i}`));
    assert.equal(code(() => s.watch('deployments.apps', undefined, d.metadata.resourceVersion, undefined, () => undefined)), 410);
    const initial: string[] = [];
    s.watch('deployments.apps', 'default', '0', undefined, (e) => initial.push(`${e.type}:${e.object.metadata.name}`)).stop();
    assert.deepEqual(initial, ['ADDED:x0', 'ADDED:x1', 'ADDED:x2', 'ADDED:x3']);
  });

  it('watch with a selector turns entering/leaving into ADDED/DELETED and shares serialised lines', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web', 'default', { app: 'web', track: 'stable' }));
    const a: WatchDelivery[] = [];
    const b: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', s.resourceVersion, { labelSelector: 'track=canary' }, (e) => a.push(e));
    s.watch('deployments.apps', undefined, s.resourceVersion, undefined, (e) => b.push(e));
    s.modify('deployments.apps', 'default', 'web', (o) => void (o.metadata.labels = { app: 'web', track: 'canary' }));
    s.modify('deployments.apps', 'default', 'web', (o) => void ((o.spec as { replicas: number }).replicas = 4));
    s.modify('deployments.apps', 'default', 'web', (o) => void (o.metadata.labels = { app: 'web' }));
    assert.deepEqual(a.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.deepEqual(b.map((e) => e.type), ['MODIFIED', 'MODIFIED', 'MODIFIED']);
    assert.equal(a[1].line(), b[1].line(), 'the same bytes fan out to both watchers');
    const line = JSON.parse(a[0].line().toString()) as { type: string; object: KubeObject };
    assert.equal(line.type, 'ADDED');
    assert.equal(a[2].object.metadata.resourceVersion, s.resourceVersion, 'leaving event carries the new resourceVersion');
  });

  it('delivers change events in commit order even when listeners write', () => {
    const s = fresh();
    const order: string[] = [];
    s.onChange((e) => {
      order.push(`A:${e.type}:${e.object.metadata.name}`);
      if (e.resource === 'deployments.apps' && e.type === 'ADDED') {
        s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${e.object.metadata.name}-cm`, namespace: 'default' } });
      }
    });
    s.onChange((e: ChangeEvent) => order.push(`B:${e.type}:${e.object.metadata.name}`));
    s.create('deployments.apps', deployment('web'));
    assert.deepEqual(order, ['A:ADDED:web', 'B:ADDED:web', 'A:ADDED:web-cm', 'B:ADDED:web-cm']);
  });

  it('cascades deletes through ownerReferences (background, foreground) and orphans on request', () => {
    const s = fresh();
    const build = (name: string) => {
      const d = s.create('deployments.apps', deployment(name));
      const rs = s.create('replicasets.apps', {
        ...deployment(`${name}-abc`),
        kind: 'ReplicaSet',
        metadata: { name: `${name}-abc`, namespace: 'default', labels: { app: `${name}-abc` }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid!, controller: true }] },
      });
      s.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-abc-x`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true }] },
        spec: { containers: [{ name: 'app', image: 'nginx' }] },
      });
    };
    build('bg');
    build('fg');
    build('or');
    s.delete('deployments.apps', 'default', 'bg');
    s.delete('deployments.apps', 'default', 'fg', { propagationPolicy: 'Foreground' });
    s.delete('deployments.apps', 'default', 'or', { propagationPolicy: 'Orphan' });
    assert.deepEqual(s.list('replicasets.apps').items.map((o) => o.metadata.name), ['or-abc']);
    assert.equal(s.get('replicasets.apps', 'default', 'or-abc').metadata.ownerReferences, undefined);
    assert.deepEqual(s.list('pods').items.map((o) => o.metadata.name), ['or-abc-x']);
    s.delete('namespaces', undefined, 'default');
    assert.equal(s.list('pods').items.length, 0, 'deleting a namespace deletes its contents');
  });

  it('holds objects with finalizers until the last finalizer is removed', () => {
    const s = fresh();
    s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'f', namespace: 'default', finalizers: ['x/y'] } });
    const marked = s.delete('configmaps', 'default', 'f');
    assert.ok(marked.metadata.deletionTimestamp);
    assert.ok(s.tryGet('configmaps', 'default', 'f'));
    s.modify('configmaps', 'default', 'f', (o) => void (o.metadata.finalizers = []));
    assert.equal(s.tryGet('configmaps', 'default', 'f'), undefined);
  });

  it('patches with json, merge and strategic patches, checking resourceVersion preconditions', () => {
    const s = fresh();
    const d = s.create('deployments.apps', deployment('web'));
    s.patch('deployments.apps', 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }, { name: 'side', image: 'envoy' }] } } } });
    s.patch('deployments.apps', 'default', 'web', 'merge', { metadata: { labels: { app: null, x: 'y' } } });
    const out = s.patch('deployments.apps', 'default', 'web', 'json', [{ op: 'replace', path: '/spec/replicas', value: 7 }]);
    const spec = out.spec as { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
    assert.equal(spec.replicas, 7);
    assert.deepEqual(spec.template.spec.containers.map((c) => `${c.name}=${c.image}`), ['app=nginx:2', 'side=envoy']);
    assert.deepEqual(out.metadata.labels, { x: 'y' });
    assert.equal(code(() => s.patch('deployments.apps', 'default', 'web', 'merge', { metadata: { resourceVersion: d.metadata.resourceVersion }, spec: { replicas: 1 } })), 409);
    assert.equal(code(() => s.patch('virtualservices.networking.istio.io', 'default', 'x', 'strategic', {})), 415);
  });

  it('server-side apply: owners of changed fields cause 409 FieldManagerConflict unless forced; equal values are shared', () => {
    const s = fresh();
    const applied = (replicas: number, image = 'nginx:1.25') => {
      const d = deployment('ssa');
      (d.spec as { replicas: number }).replicas = replicas;
      (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image = image;
      delete d.status;
      return d;
    };
    s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(2), { fieldManager: 'ci' });
    assert.equal(code(() => s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(2), {})), 400, 'apply needs a field manager');
    s.patch('deployments.apps', 'default', 'ssa', 'merge', { spec: { replicas: 5 } }, { fieldManager: 'kubectl-scale' });
    s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(5, 'nginx:1.25'), { fieldManager: 'other' });
    try {
      s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(3, 'nginx:1.26'), { fieldManager: 'ci' });
      assert.fail('expected a conflict');
    } catch (e) {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 409);
      assert.equal(e.reason, 'Conflict');
      const causes = e.status.details!.causes!;
      assert.ok(causes.every((c) => c.reason === 'FieldManagerConflict'));
      assert.deepEqual(causes.map((c) => `${c.message} ${c.field}`).sort(), [
        'conflict with "kubectl-scale" using apps/v1 .spec.replicas',
        'conflict with "other" using apps/v1 .spec.replicas',
        'conflict with "other" using apps/v1 .spec.template.spec.containers[name="app"].image',
      ], 'the image was co-owned by "other", which applied the same value');
      assert.match(e.message, /^Apply failed with 3 conflicts: conflict with "kubectl-scale" using apps\/v1: \.spec\.replicas/);
    }
    assert.equal((s.get('deployments.apps', 'default', 'ssa').spec as { replicas: number }).replicas, 5, 'a conflicting apply changes nothing');
    const forced = s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(3, 'nginx:1.26'), { fieldManager: 'ci', force: true });
    assert.equal((forced.spec as { replicas: number }).replicas, 3);
    s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(3, 'nginx:1.27'), { fieldManager: 'ci' });
    assert.equal(code(() => s.patch('deployments.apps', 'default', 'ssa', 'apply', applied(4), { fieldManager: 'kubectl-scale' })), 409, 'the forced field now belongs to ci');
  });
});
