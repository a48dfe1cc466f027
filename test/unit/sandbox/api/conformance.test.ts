// Conformance of the sandbox API server through an unmodified @kubernetes/client-node 1.4.0 over HTTP.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startBare, waitFor, type Harness } from './harness';

type Dep = k8s.V1Deployment;

function deployment(name: string, labels: Record<string, string> = { app: name }, replicas = 2): Dep {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }] } },
    },
  };
}

/** Status body of a failed call. */
function statusOf(e: unknown): { code: number; reason: string; message: string; details?: { causes?: { field?: string }[] } } {
  assert.ok(e instanceof k8s.ApiException, `expected ApiException, got ${String(e)}`);
  const body = JSON.parse(e.body as string);
  assert.equal(body.kind, 'Status');
  assert.equal(body.code, e.code);
  return body;
}

async function failing(p: Promise<unknown>): Promise<ReturnType<typeof statusOf>> {
  try {
    await p;
  } catch (e) {
    return statusOf(e);
  }
  assert.fail('expected the call to fail');
}

const NS = 'default';

describe('sandbox API conformance (@kubernetes/client-node)', function () {
  let h: Harness;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let custom: k8s.CustomObjectsApi;

  before(async () => {
    h = await startBare({ store: { historySize: 50 }, server: { bookmarkIntervalMs: 50 }, namespaces: ['default', 'other'] });
    kc = new k8s.KubeConfig();
    kc.loadFromString(h.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
  });
  after(() => h.close());
  afterEach(() => Object.assign(h.api.faults, { errorRate: 0, conflictRate: 0, forceWatchExpired: 0, watchCutAfterEvents: 0, latencyMs: 0 }));

  it('serves /version 1.32 and discovery with short names, verbs and subresources', async () => {
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(v.major, '1');
    assert.equal(v.minor, '32');
    assert.match(v.gitVersion, /^v1\.32\.\d+$/);
    const res = await apps.getAPIResources();
    const deploy = res.resources.find((r) => r.name === 'deployments')!;
    assert.deepEqual(deploy.shortNames, ['deploy']);
    assert.ok(deploy.verbs.includes('watch') && deploy.namespaced);
    assert.ok(res.resources.some((r) => r.name === 'deployments/scale' && r.kind === 'Scale'));
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    for (const g of ['apps', 'batch', 'networking.istio.io', 'gateway.networking.k8s.io', 'coordination.k8s.io', 'networking.k8s.io']) assert.ok(names.includes(g), g);
    const coreRes = await core.getAPIResources();
    const byName = new Map(coreRes.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('pods')!.shortNames, ['po']);
    assert.ok(byName.has('pods/log') && byName.has('services/proxy'));
  });

  it('CRUD: 201 create, get, list with selectors, replace, delete, then 404 with a Status body', async () => {
    const created = await apps.createNamespacedDeploymentWithHttpInfo({ namespace: NS, body: deployment('crud', { app: 'crud', tier: 'web' }) });
    assert.equal(created.httpStatusCode, 201);
    assert.equal(created.headers['content-type'], 'application/json');
    assert.equal(created.data.metadata!.generation, 1);
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-b', { app: 'crud-b', tier: 'db' }) });
    const got = await apps.readNamespacedDeployment({ name: 'crud', namespace: NS });
    assert.equal(got.metadata!.uid, created.data.metadata!.uid);
    const list = await apps.listNamespacedDeployment({ namespace: NS, labelSelector: 'tier in (web,cache),app' });
    assert.deepEqual(list.items.map((d) => d.metadata!.name), ['crud']);
    assert.equal(list.metadata!.resourceVersion, h.store.resourceVersion);
    const byField = await apps.listDeploymentForAllNamespaces({ fieldSelector: 'metadata.name=crud-b' });
    assert.deepEqual(byField.items.map((d) => d.metadata!.name), ['crud-b']);
    got.spec!.replicas = 4;
    const replaced = await apps.replaceNamespacedDeployment({ name: 'crud', namespace: NS, body: got });
    assert.equal(replaced.spec!.replicas, 4);
    assert.equal(replaced.metadata!.generation, 2);
    assert.ok(Number(replaced.metadata!.resourceVersion) > Number(got.metadata!.resourceVersion));
    await apps.deleteNamespacedDeployment({ name: 'crud', namespace: NS });
    const s = await failing(apps.readNamespacedDeployment({ name: 'crud', namespace: NS }));
    assert.equal(s.code, 404);
    assert.equal(s.reason, 'NotFound');
    assert.equal(s.message, 'deployments.apps "crud" not found');
  });

  it('serves leases (optimistic locking), jobs with /status, endpoints, ingresses and Gateway API / Istio custom resources', async () => {
    const coord = kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coord.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'rollout-lock' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    const taken = await coord.replaceNamespacedLease({ name: 'rollout-lock', namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
    assert.equal(taken.spec!.holderIdentity, 'b');
    const lost = await failing(coord.replaceNamespacedLease({ name: 'rollout-lock', namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }));
    assert.equal(lost.code, 409, 'a stale lease holder loses');
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const job = await batch.createNamespacedJob({ namespace: NS, body: { metadata: { name: 'smoke' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 't', image: 'tests:1' }] } } } } });
    assert.equal(job.spec!.backoffLimit, 6);
    assert.equal(job.spec!.template.metadata!.labels!['job-name'], 'smoke');
    assert.deepEqual(job.spec!.selector!.matchLabels, { 'batch.kubernetes.io/controller-uid': job.metadata!.uid! });
    const done = await batch.patchNamespacedJobStatus({ name: 'smoke', namespace: NS, body: { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(done.status!.succeeded, 1);
    await core.createNamespacedEndpoints({ namespace: NS, body: { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 8080 }] }] } });
    assert.equal((await core.readNamespacedEndpoints({ name: 'web', namespace: NS })).subsets![0].addresses![0].ip, '10.244.0.5');
    const net = kc.makeApiClient(k8s.NetworkingV1Api);
    await net.createNamespacedIngress({ namespace: NS, body: { metadata: { name: 'web-canary', annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '10' } }, spec: { rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-canary', port: { number: 80 } } } }] } }] } } });
    assert.equal((await net.listNamespacedIngress({ namespace: NS })).items[0].metadata!.annotations!['nginx.ingress.kubernetes.io/canary-weight'], '10');
    const route = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS, plural: 'httproutes' };
    await custom.createNamespacedCustomObject({ ...route, body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { rules: [{ backendRefs: [{ name: 'web-stable', port: 80, weight: 90 }, { name: 'web-canary', port: 80, weight: 10 }] }] } } });
    const routes = (await custom.listNamespacedCustomObject(route)) as { kind: string; items: { spec: { rules: { backendRefs: { weight: number }[] }[] } }[] };
    assert.equal(routes.kind, 'HTTPRouteList');
    assert.deepEqual(routes.items[0].spec.rules[0].backendRefs.map((b) => b.weight), [90, 10]);
    const dr = { group: 'networking.istio.io', version: 'v1', namespace: NS, plural: 'destinationrules' };
    await custom.createNamespacedCustomObject({ ...dr, body: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web' }, spec: { host: 'web', subsets: [{ name: 'stable', labels: { track: 'stable' } }] } } });
    const viaV1 = (await custom.getNamespacedCustomObject({ ...dr, name: 'web' })) as { apiVersion: string };
    const viaBeta = (await custom.getNamespacedCustomObject({ ...dr, version: 'v1beta1', name: 'web' })) as { apiVersion: string };
    assert.deepEqual([viaV1.apiVersion, viaBeta.apiVersion], ['networking.istio.io/v1', 'networking.istio.io/v1beta1'], 'one object, served in both versions');
  });

  it('409 AlreadyExists and Conflict on stale writes, 422 Invalid with causes', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('dup') });
    const exists = await failing(apps.createNamespacedDeployment({ namespace: NS, body: deployment('dup') }));
    assert.equal(exists.code, 409);
    assert.equal(exists.reason, 'AlreadyExists');
    await apps.patchNamespacedDeployment({ name: 'dup', namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    const stale = await failing(apps.replaceNamespacedDeployment({ name: 'dup', namespace: NS, body: d }));
    assert.equal(stale.code, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.match(stale.message, /the object has been modified; please apply your changes to the latest version and try again/);
    const bad = deployment('bad');
    bad.spec!.template.metadata!.labels = { app: 'nope' };
    bad.spec!.template.spec!.containers[0].image = '';
    const inv = await failing(apps.createNamespacedDeployment({ namespace: NS, body: bad }));
    assert.equal(inv.code, 422);
    assert.equal(inv.reason, 'Invalid');
    assert.deepEqual(inv.details!.causes!.map((c) => c.field).sort(), ['spec.template.metadata.labels', 'spec.template.spec.containers[0].image']);
    const crd = await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'vs' }, spec: { hosts: ['web'] } } });
    delete (crd as { metadata: { resourceVersion?: string } }).metadata.resourceVersion;
    const noRv = await failing(custom.replaceNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', name: 'vs', body: crd }));
    assert.equal(noRv.code, 422);
  });

  it('403 Forbidden: no new content in a terminating namespace; it goes once its finalizers are removed', async () => {
    await core.createNamespace({ body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    await core.deleteNamespace({ name: 'held' });
    assert.ok((await core.readNamespace({ name: 'held' })).metadata!.deletionTimestamp, 'terminating while a finalizer holds it');
    const forbidden = await failing(core.createNamespacedConfigMap({ namespace: 'held', body: { metadata: { name: 'late' } } }));
    assert.equal(forbidden.code, 403);
    assert.equal(forbidden.reason, 'Forbidden');
    assert.equal(forbidden.message, 'configmaps "late" is forbidden: unable to create new content in namespace held because it is being terminated');
    await core.patchNamespace({ name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    assert.equal((await failing(core.readNamespace({ name: 'held' }))).code, 404);
  });

  it('watch: ADDED/MODIFIED/DELETED in order from a list resourceVersion, BOOKMARKs, and selector enter/leave', async () => {
    const list = await apps.listNamespacedDeployment({ namespace: NS });
    const events: string[] = [];
    const selected: string[] = [];
    let bookmarks = 0;
    const w = new k8s.Watch(kc);
    const all = await w.watch(`/apis/apps/v1/namespaces/${NS}/deployments`, { resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true }, (type, obj: Dep) => {
      if (type === 'BOOKMARK') bookmarks++;
      else events.push(`${type}:${obj.metadata!.name}:${obj.spec!.replicas}`);
    }, () => undefined);
    const sel = await w.watch(`/apis/apps/v1/namespaces/${NS}/deployments`, { resourceVersion: list.metadata!.resourceVersion, labelSelector: 'track=canary' }, (type, obj: Dep) => {
      selected.push(`${type}:${obj.metadata!.name}`);
    }, () => undefined);
    await waitFor('both watches registered', () => h.store.watcherCount() >= 2);
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('watched', { app: 'watched', track: 'stable' }) });
    await apps.patchNamespacedDeployment({ name: 'watched', namespace: NS, body: { metadata: { labels: { track: 'canary' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await apps.patchNamespacedDeployment({ name: 'watched', namespace: NS, body: { spec: { replicas: 5 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await apps.patchNamespacedDeployment({ name: 'watched', namespace: NS, body: { metadata: { labels: { track: null } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await apps.deleteNamespacedDeployment({ name: 'watched', namespace: NS });
    await waitFor('all events', () => events.length >= 5 && selected.length >= 3 && bookmarks > 0);
    all.abort();
    sel.abort();
    assert.deepEqual(events, ['ADDED:watched:2', 'MODIFIED:watched:2', 'MODIFIED:watched:5', 'MODIFIED:watched:5', 'DELETED:watched:5']);
    assert.deepEqual(selected, ['ADDED:watched', 'MODIFIED:watched', 'DELETED:watched']);
    await waitFor('watchers gone', () => h.store.watcherCount() === 0);
  });

  it('watch: synthetic ADDED from rv 0, timeoutSeconds ends the stream, too-old rv is an in-stream 410', async () => {
    await core.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: 'cm-a' }, data: { k: 'v' } } });
    const w = new k8s.Watch(kc);
    const got: string[] = [];
    let doneErr: unknown = 'not done';
    await w.watch('/api/v1/namespaces/other/configmaps', { resourceVersion: '0', timeoutSeconds: 1 }, (type, obj: k8s.V1ConfigMap) => got.push(`${type}:${obj.metadata!.name}`), (err) => (doneErr = err));
    await waitFor('timeout closes the stream', () => doneErr !== 'not done', 5000);
    assert.deepEqual(got, ['ADDED:cm-a']);
    assert.equal(doneErr, null);
    const first = h.store.resourceVersion;
    for (let i = 0; i < 60; i++) await core.patchNamespacedConfigMap({ name: 'cm-a', namespace: 'other', body: [{ op: 'replace', path: '/data/k', value: `v${i}` }] });
    const errors: { type: string; code?: number; reason?: string }[] = [];
    let closed = false;
    await w.watch('/api/v1/namespaces/other/configmaps', { resourceVersion: first }, (type, obj: { code?: number; reason?: string }) => errors.push({ type, code: obj.code, reason: obj.reason }), () => (closed = true));
    await waitFor('stream closed after the ERROR', () => closed);
    assert.deepEqual(errors, [{ type: 'ERROR', code: 410, reason: 'Expired' }]);
    const bad = await fetch(`${h.url}/api/v1/namespaces/other/configmaps?watch=true&labelSelector=${encodeURIComponent('a in (b')}`);
    assert.equal(bad.status, 400, 'a bad selector is a 400 before the stream starts');
    assert.equal(((await bad.json()) as { reason: string }).reason, 'BadRequest');
  });

  it('a body naming another namespace than the URL is refused on create and update (400), as kube-apiserver does', async () => {
    const cm = (ns?: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ns-check', ...(ns ? { namespace: ns } : {}) }, data: { k: 'v' } });
    const send = (method: string, path: string, body: string) => fetch(`${h.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
    const created = await send('POST', `/api/v1/namespaces/${NS}/configmaps`, cm());
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { metadata: { namespace: string } }).metadata.namespace, NS, 'the URL gives the namespace');
    for (const [method, path] of [['POST', `/api/v1/namespaces/${NS}/configmaps`], ['PUT', `/api/v1/namespaces/${NS}/configmaps/ns-check`]]) {
      const res = await send(method, path, cm('elsewhere'));
      assert.equal(res.status, 400, method);
      assert.match(((await res.json()) as { message: string }).message, /namespace of the provided object \(elsewhere\) does not match the namespace sent on the request \(default\)/);
    }
  });

  it('an informer lists, watches and reports add/update/delete; a selector informer sees objects leave', async () => {
    const path = `/api/v1/namespaces/${NS}/services`;
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedService({ namespace: NS }));
    const canaries = k8s.makeInformer(kc, path, () => core.listNamespacedService({ namespace: NS, labelSelector: 'track=canary' }), 'track=canary');
    const seen: string[] = [];
    const canarySeen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata!.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata!.name}:${o.metadata!.labels?.track ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata!.name}`));
    canaries.on('add', (o) => canarySeen.push(`add:${o.metadata!.name}`));
    canaries.on('delete', (o) => canarySeen.push(`delete:${o.metadata!.name}`));
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'pre' }, spec: { ports: [{ port: 80 }] } } });
    await informer.start();
    await canaries.start();
    await waitFor('informers watching', () => h.store.watcherCount() >= 2);
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'svc', labels: { track: 'canary' } }, spec: { ports: [{ port: 80 }], selector: { app: 'x' } } } });
    await core.patchNamespacedService({ name: 'svc', namespace: NS, body: { metadata: { labels: { track: 'stable' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedService({ name: 'svc', namespace: NS });
    await waitFor('informer events', () => seen.length >= 4 && canarySeen.length >= 2);
    await informer.stop();
    await canaries.stop();
    assert.deepEqual(seen, ['add:pre', 'add:svc', 'update:svc:stable', 'delete:svc']);
    assert.deepEqual(canarySeen, ['add:svc', 'delete:svc']);
    assert.deepEqual(informer.list().map((s) => s.metadata!.name), ['pre']);
    const svc = await core.readNamespacedService({ name: 'pre', namespace: NS });
    assert.match(svc.spec!.clusterIP!, /^10\.96\.\d+\.\d+$/);
    assert.equal(svc.spec!.ports![0].protocol, 'TCP');
  });

  it('an informer recovers from cut streams and a forced 410 by relisting, and keeps its cache right', async () => {
    const path = '/api/v1/namespaces/other/secrets';
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedSecret({ namespace: 'other' }));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    await waitFor('informer watching', () => h.store.watcherCount() >= 1);
    // Every stream now ends after one event, and the next resumption is told its version expired.
    Object.assign(h.api.faults, { watchCutAfterEvents: 1, forceWatchExpired: 1, resources: ['secrets'] });
    await core.createNamespacedSecret({ namespace: 'other', body: { metadata: { name: 's1' }, stringData: { a: 'b' } } });
    await waitFor('forced 410 used', () => h.api.faults.forceWatchExpired === 0, 10_000);
    await core.createNamespacedSecret({ namespace: 'other', body: { metadata: { name: 's2' } } });
    await core.deleteNamespacedSecret({ name: 's1', namespace: 'other' });
    await waitFor('cache converged', () => informer.list().map((x) => x.metadata!.name).join() === 's2', 10_000);
    Object.assign(h.api.faults, { watchCutAfterEvents: 0, resources: [] });
    const beforeStop = [...errors];
    await informer.stop();
    assert.deepEqual(beforeStop, [], 'a 410 is handled by relisting, not reported as an error');
  });

  it('every patch type: json (default), merge, strategic with merge keys, server-side apply; 415 for strategic on custom resources', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('patchy') });
    const json = await apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'x' } }, { op: 'replace', path: '/spec/replicas', value: 3 }] });
    assert.equal(json.spec!.replicas, 3);
    assert.equal(json.metadata!.annotations!.note, 'x');
    const merge = await apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: { metadata: { annotations: { note: null, other: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.deepEqual(merge.metadata!.annotations, { other: 'y' });
    const strategic = await apps.patchNamespacedDeployment({
      name: 'patchy',
      namespace: NS,
      body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.26', env: [{ name: 'B', value: '2' }] }, { name: 'sidecar', image: 'envoy:1' }] } } } },
    }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
    const cs = strategic.spec!.template.spec!.containers;
    assert.deepEqual(cs.map((c) => [c.name, c.image]), [['app', 'nginx:1.26'], ['sidecar', 'envoy:1']]);
    assert.deepEqual(cs[0].env!.map((e) => `${e.name}=${e.value}`), ['A=1', 'B=2'], 'env merged by name');
    const applied = await apps.patchNamespacedDeployment({
      name: 'applied',
      namespace: NS,
      fieldManager: 'conformance',
      body: deployment('applied', { app: 'applied' }, 1),
    }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply));
    assert.equal(applied.spec!.replicas, 1);
    const reapplied = await apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, fieldManager: 'conformance', force: true, body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'applied' }, spec: { replicas: 6 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply));
    assert.equal(reapplied.spec!.replicas, 6);
    await apps.patchNamespacedDeploymentScale({ name: 'applied', namespace: NS, fieldManager: 'autoscaler', body: { spec: { replicas: 9 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const clash = await failing(apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, fieldManager: 'conformance', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'applied' }, spec: { replicas: 6 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply)));
    assert.equal(clash.code, 409);
    assert.equal(clash.reason, 'Conflict');
    assert.deepEqual((clash.details as { causes: { reason: string; field: string }[] }).causes.map((c) => [c.reason, c.field]), [['FieldManagerConflict', '.spec.replicas']]);
    assert.equal(reapplied.spec!.template.spec!.containers[0].image, 'nginx:1.25');
    const vs = { group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices' };
    await custom.createNamespacedCustomObject({ ...vs, body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'web' }, spec: { http: [{ route: [{ destination: { host: 'web', subset: 'stable' }, weight: 100 }] }] } } });
    const patched = (await custom.patchNamespacedCustomObject({ ...vs, name: 'web', body: [{ op: 'replace', path: '/spec/http/0/route', value: [{ destination: { host: 'web', subset: 'stable' }, weight: 90 }, { destination: { host: 'web', subset: 'canary' }, weight: 10 }] }] })) as { spec: { http: { route: { weight: number }[] }[] } };
    assert.deepEqual(patched.spec.http[0].route.map((r) => r.weight), [90, 10]);
    const merged = (await custom.patchNamespacedCustomObject({ ...vs, name: 'web', body: { spec: { hosts: ['web'] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))) as { spec: { hosts: string[] } };
    assert.deepEqual(merged.spec.hosts, ['web']);
    const unsupported = await failing(custom.patchNamespacedCustomObject({ ...vs, name: 'web', body: { spec: {} } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch)));
    assert.equal(unsupported.code, 415);
    assert.equal(unsupported.reason, 'UnsupportedMediaType');
  });

  it('/status changes only status and keeps generation; /scale reads and writes autoscaling/v1 Scale', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('scaled', { app: 'scaled' }, 2) });
    d.status = { replicas: 2, readyReplicas: 1, observedGeneration: 1 };
    d.spec!.replicas = 50;
    const st = await apps.replaceNamespacedDeploymentStatus({ name: 'scaled', namespace: NS, body: d });
    assert.equal(st.status!.readyReplicas, 1);
    assert.equal(st.spec!.replicas, 2, 'spec untouched through /status');
    assert.equal(st.metadata!.generation, 1);
    const patchedStatus = await apps.patchNamespacedDeploymentStatus({ name: 'scaled', namespace: NS, body: { status: { availableReplicas: 1 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(patchedStatus.status!.availableReplicas, 1);
    assert.equal(patchedStatus.status!.readyReplicas, 1);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: NS });
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.equal(scale.spec!.replicas, 2);
    assert.equal(scale.status!.replicas, 2);
    assert.equal(scale.status!.selector, 'app=scaled');
    const scaled = await apps.patchNamespacedDeploymentScale({ name: 'scaled', namespace: NS, body: { spec: { replicas: 7 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(scaled.spec!.replicas, 7);
    const after = await apps.readNamespacedDeployment({ name: 'scaled', namespace: NS });
    assert.equal(after.spec!.replicas, 7);
    assert.equal(after.metadata!.generation, 2);
    scale.spec!.replicas = 1;
    const stale = await failing(apps.replaceNamespacedDeploymentScale({ name: 'scaled', namespace: NS, body: scale }));
    assert.equal(stale.code, 409, 'stale Scale resourceVersion');
  });

  it('cascading delete through ownerReferences: background removes ReplicaSets and pods, orphan keeps them', async () => {
    for (const [name, policy] of [['casc', 'Background'], ['orph', 'Orphan']] as const) {
      const d = await apps.createNamespacedDeployment({ namespace: NS, body: deployment(name) });
      const rs = await apps.createNamespacedReplicaSet({
        namespace: NS,
        body: {
          metadata: { name: `${name}-7f9c`, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
          spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
        },
      });
      await core.createNamespacedPod({
        namespace: NS,
        body: { metadata: { name: `${name}-7f9c-abcde`, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata!.name!, uid: rs.metadata!.uid!, controller: true }] }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      });
      await apps.deleteNamespacedDeployment({ name, namespace: NS, propagationPolicy: policy });
    }
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS })).items.map((r) => r.metadata!.name);
    const pods = (await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata!.name);
    assert.ok(!rss.includes('casc-7f9c') && !pods.includes('casc-7f9c-abcde'));
    assert.ok(rss.includes('orph-7f9c') && pods.includes('orph-7f9c-abcde'));
    const orphan = await apps.readNamespacedReplicaSet({ name: 'orph-7f9c', namespace: NS });
    assert.equal(orphan.metadata!.ownerReferences, undefined);
  });

  it('concurrent writers: read-modify-write with retries on 409 loses no update', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'counter' }, data: { n: '0' } } });
    const writers = 6;
    const rounds = 4;
    let conflicts = 0;
    let arrived = 0;
    let release: () => void = () => undefined;
    let barrier = new Promise<void>((r) => (release = r));
    // All writers read, then wait until everyone has read before writing: conflicts are certain.
    const sync = async () => {
      const mine = barrier;
      if (++arrived === writers) {
        arrived = 0;
        const open = release;
        barrier = new Promise<void>((r) => (release = r));
        open();
      }
      await mine;
    };
    const writer = async () => {
      for (let i = 0; i < rounds; i++) {
        let firstTry = true;
        for (;;) {
          const cm = await core.readNamespacedConfigMap({ name: 'counter', namespace: NS });
          if (firstTry) await sync();
          firstTry = false;
          cm.data!.n = String(Number(cm.data!.n) + 1);
          try {
            await core.replaceNamespacedConfigMap({ name: 'counter', namespace: NS, body: cm });
            break;
          } catch (e) {
            if (statusOf(e).code !== 409) throw e;
            conflicts++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));
    const final = await core.readNamespacedConfigMap({ name: 'counter', namespace: NS });
    assert.equal(final.data!.n, String(writers * rounds));
    assert.ok(conflicts >= (writers - 1) * rounds, `expected at least ${(writers - 1) * rounds} conflicts, saw ${conflicts}`);
  });

  it('field selectors on events (involvedObject.*) and pods (status.phase, spec.nodeName)', async () => {
    const ev = (name: string, kind: string, obj: string) => ({ metadata: { name }, involvedObject: { kind, name: obj, namespace: NS }, reason: 'ScalingReplicaSet', message: 'm', type: 'Normal' });
    await core.createNamespacedEvent({ namespace: NS, body: ev('e1', 'Deployment', 'web') });
    await core.createNamespacedEvent({ namespace: NS, body: ev('e2', 'Deployment', 'api') });
    await core.createNamespacedEvent({ namespace: NS, body: ev('e3', 'Pod', 'web') });
    const evs = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=web' });
    assert.deepEqual(evs.items.map((e) => e.metadata!.name), ['e1']);
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'running' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] } } });
    await core.patchNamespacedPodStatus({ name: 'running', namespace: NS, body: { status: { phase: 'Running' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const running = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running,spec.nodeName=node-1' });
    assert.deepEqual(running.items.map((p) => p.metadata!.name), ['running']);
    const notRunning = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'status.phase!=Running' });
    assert.ok(!notRunning.items.some((p) => p.metadata!.name === 'running'));
  });

  it('field selectors: only the labels kube-apiserver supports per resource; others are a 400, never a silent empty or full list', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${h.url}${path}`);
      return { status: res.status, body: (await res.json()) as { reason?: string; message?: string; items?: { metadata: { name: string } }[] } };
    };
    const fs = (s: string) => `fieldSelector=${encodeURIComponent(s)}`;
    const bad = await get(`/api/v1/namespaces/${NS}/pods?${fs('foo=bar')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    assert.equal(bad.body.message, 'field label not supported: foo');
    // status.phase is a pod field, not a Deployment one.
    assert.equal((await get(`/apis/apps/v1/deployments?${fs('status.phase=Running')}`)).body.message, 'field label not supported: status.phase');
    assert.equal((await get(`/api/v1/namespaces?${fs('metadata.namespace=x')}`)).status, 400, 'cluster-scoped: no metadata.namespace');
    const crd = await get(`/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices?${fs('spec.hosts=x')}`);
    assert.equal(crd.status, 400);
    assert.equal(crd.body.message, '"spec.hosts" is not a known field selector: only "metadata.name", "metadata.namespace"');
    const watch = await fetch(`${h.url}/api/v1/namespaces/${NS}/configmaps?watch=true&${fs('data.k=v')}`);
    assert.equal(watch.status, 400, 'a watch is refused before its stream starts');
    await watch.body?.cancel();
    const delColl = await fetch(`${h.url}/api/v1/namespaces/${NS}/configmaps?${fs('data.k=v')}`, { method: 'DELETE' });
    assert.equal(delColl.status, 400, 'deletecollection with an unsupported field deletes nothing');
    // Labels that are not plain paths: Event source is source.component; Job status.successful is status.succeeded.
    await core.createNamespacedEvent({ namespace: NS, body: { metadata: { name: 'src-ev' }, involvedObject: { kind: 'Pod', name: 'p', namespace: NS }, reason: 'Pulled', type: 'Normal', source: { component: 'kubelet' } } });
    const names = async (path: string) => ((await get(path)).body.items ?? []).map((o) => o.metadata.name);
    assert.deepEqual(await names(`/api/v1/namespaces/${NS}/events?${fs('source=kubelet,type=Normal,reason=Pulled')}`), ['src-ev']);
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({ namespace: NS, body: { metadata: { name: 'fs-job' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } });
    assert.deepEqual(await names(`/apis/batch/v1/namespaces/${NS}/jobs?${fs('status.successful=0,metadata.name=fs-job')}`), ['fs-job'], 'an unset count compares as 0');
    await batch.patchNamespacedJobStatus({ name: 'fs-job', namespace: NS, body: { status: { succeeded: 1 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.deepEqual(await names(`/apis/batch/v1/namespaces/${NS}/jobs?${fs('status.successful=1,metadata.name=fs-job')}`), ['fs-job']);
    assert.deepEqual(await names(`/api/v1/namespaces/${NS}/pods?${fs('spec.hostNetwork=true')}`), [], 'unset hostNetwork is false');
  });

  it('fieldValidation: Strict refuses unknown fields of built-in kinds (400), Warn (the default) drops them with a Warning header, Ignore drops them', async () => {
    const send = (method: string, path: string, body: unknown, contentType = 'application/json') =>
      fetch(`${h.url}${path}`, { method, headers: { 'content-type': contentType }, body: JSON.stringify(body) });
    const dep = { ...deployment('fv'), spec: { ...deployment('fv').spec, replica: 3, template: { ...deployment('fv').spec!.template, spec: { containers: [{ name: 'app', image: 'nginx', imagePullPolice: 'Always' }] } } } };
    const strict = await send('POST', `/apis/apps/v1/namespaces/${NS}/deployments?fieldValidation=Strict`, dep);
    assert.equal(strict.status, 400);
    const body = (await strict.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'BadRequest');
    assert.equal(body.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolice", unknown field "spec.replica"', 'in document order');
    assert.equal(h.store.tryGet('deployments.apps', NS, 'fv'), undefined, 'nothing stored');

    const warned = await send('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, dep);
    assert.equal(warned.status, 201);
    assert.equal(warned.headers.get('warning'), '299 - "unknown field \\"spec.template.spec.containers[0].imagePullPolice\\"", 299 - "unknown field \\"spec.replica\\""');
    const stored = h.store.get('deployments.apps', NS, 'fv') as unknown as { spec: Record<string, unknown> & { template: { spec: { containers: Record<string, unknown>[] } } } };
    assert.equal('replica' in stored.spec, false, 'dropped, as kube-apiserver does');
    assert.equal('imagePullPolice' in stored.spec.template.spec.containers[0], false);
    assert.equal(stored.spec.replicas, 2, 'known fields kept');

    const ignored = await send('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/fv?fieldValidation=Ignore`, { spec: { paused: true, bogus: 1 } }, 'application/merge-patch+json');
    assert.equal(ignored.status, 200);
    assert.equal(ignored.headers.get('warning'), null);
    assert.equal(((await ignored.json()) as { spec: Record<string, unknown> }).spec.bogus, undefined);
    const strictPatch = await send('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/fv?fieldValidation=Strict`, [{ op: 'add', path: '/spec/bogus', value: 1 }], 'application/json-patch+json');
    assert.equal(strictPatch.status, 400);
    assert.match(((await strictPatch.json()) as { message: string }).message, /strict decoding error: unknown field "spec\.bogus"/);
    // Extras an in-process writer left do not block a strict write that does not bring them in.
    h.store.modify('configmaps', NS, 'counter', (d) => void ((d as Record<string, unknown>).extra = 'x'));
    const ok = await send('PATCH', `/api/v1/namespaces/${NS}/configmaps/counter?fieldValidation=Strict`, { metadata: { labels: { fv: 'yes' } } }, 'application/merge-patch+json');
    assert.equal(ok.status, 200);
    // Custom resources keep what they are given (their CRDs preserve unknown fields).
    const vs = await send('POST', `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices?fieldValidation=Strict`, { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'fv' }, spec: { hosts: ['fv'], anything: { goes: true } } });
    assert.equal(vs.status, 201);
  });

  it('delegates pod logs, the service proxy path and /admin to the registered hooks', async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'logger' }, spec: { containers: [{ name: 'main', image: 'x' }] } } });
    h.api.hooks.podLogs = (r) => `${r.pod.metadata.name}/${r.container} line 1\n${r.pod.metadata.name}/${r.container} line 2\n`;
    const log = await core.readNamespacedPodLog({ name: 'logger', namespace: NS });
    assert.equal(log, 'logger/main line 1\nlogger/main line 2\n');
    const tail = await core.readNamespacedPodLog({ name: 'logger', namespace: NS, tailLines: 1 });
    assert.equal(tail, 'logger/main line 2\n');
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'prometheus' }, spec: { ports: [{ port: 9090 }] } } });
    h.api.hooks.serviceProxy = (_req, res, t) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(t));
    };
    const proxied = await fetch(`${h.url}/api/v1/namespaces/${NS}/services/prometheus:9090/proxy/api/v1/query?query=up`);
    assert.deepEqual(await proxied.json(), { namespace: NS, service: 'prometheus', port: '9090', path: '/api/v1/query', search: '?query=up' });
    const missing = await fetch(`${h.url}/api/v1/namespaces/${NS}/services/nope:9090/proxy/x`);
    assert.equal(missing.status, 404);
    h.api.hooks.admin = (_req, res, path) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ path }));
    };
    assert.deepEqual(await (await fetch(`${h.url}/admin/faults`)).json(), { path: '/faults' });
  });

  it('injects faults: 5xx/429 answers, 409 storms on writes, forced 410 on watch resumption, cut watch streams', async () => {
    Object.assign(h.api.faults, { errorRate: 1, errorCodes: [503], resources: ['configmaps'] });
    const unavailable = await failing(core.listNamespacedConfigMap({ namespace: NS }));
    assert.equal(unavailable.code, 503);
    await core.listNamespacedSecret({ namespace: NS });
    Object.assign(h.api.faults, { errorRate: 0, conflictRate: 1 });
    const storm = await failing(core.patchNamespacedConfigMap({ name: 'counter', namespace: NS, body: [{ op: 'add', path: '/data/x', value: '1' }] }));
    assert.equal(storm.code, 409);
    Object.assign(h.api.faults, { conflictRate: 0, forceWatchExpired: 1 });
    const w = new k8s.Watch(kc);
    const got: string[] = [];
    let closed = false;
    await w.watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: h.store.resourceVersion }, (type, o: { code?: number }) => got.push(`${type}:${o.code}`), () => (closed = true));
    await waitFor('forced 410', () => closed);
    assert.deepEqual(got, ['ERROR:410']);
    assert.equal(h.api.faults.forceWatchExpired, 0, 'the forced 410 is used up');
    for (const name of ['cut-1', 'cut-2', 'cut-3']) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name } } });
    Object.assign(h.api.faults, { watchCutAfterEvents: 2, resources: [] });
    const cut: string[] = [];
    let cutClosed = false;
    await w.watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: '0' }, (type) => cut.push(type), () => (cutClosed = true));
    await waitFor('cut stream', () => cutClosed);
    assert.equal(cut.length, 2);
  });

  it('injects added latency: a faulted request is answered only after it, unfaulted ones are not held up', async () => {
    Object.assign(h.api.faults, { latencyMs: 1500, resources: ['configmaps'] });
    const before = h.store.resourceVersion;
    let settled = false;
    const slow = core.patchNamespacedConfigMap({ name: 'counter', namespace: NS, body: [{ op: 'add', path: '/data/slow', value: '1' }] }).finally(() => (settled = true));
    // Another resource is served at once while the delayed write waits, and the write is not applied yet.
    await core.listNamespacedSecret({ namespace: NS });
    assert.equal(settled, false, 'the faulted request is still held');
    assert.equal(h.store.resourceVersion, before, 'the delayed write has not reached the store');
    const patched = await slow;
    assert.equal(patched.data!.slow, '1', 'then it is served normally');
    // The limits hold for watch faults too: a watch of another resource is not cut.
    Object.assign(h.api.faults, { latencyMs: 0, watchCutAfterEvents: 1, resources: ['secrets'] });
    const existing = (await core.listNamespacedConfigMap({ namespace: NS })).items.length;
    assert.ok(existing >= 2);
    const seen: string[] = [];
    const req = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: '0' }, (type) => seen.push(type), () => undefined);
    await waitFor('every synthetic ADDED', () => seen.length === existing);
    req.abort();
    Object.assign(h.api.faults, { resources: [] });
  });

  it('answers Table requests with columns and PartialObjectMetadata rows', async () => {
    await apps.createNamespacedDeployment({ namespace: 'other', body: deployment('tabled') });
    const res = await fetch(`${h.url}/apis/apps/v1/namespaces/other/deployments?limit=500`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    assert.equal(res.headers.get('content-type'), 'application/json');
    const table = (await res.json()) as { kind: string; columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[] };
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 4), ['tabled', '0/2', 0, 0]);
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
    assert.equal(table.rows[0].object.metadata.name, 'tabled');
  });

  it('pages lists with limit/continue and supports dryRun=All', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: `page-${i}`, labels: { page: 'yes' } } } });
    const first = await core.listNamespacedConfigMap({ namespace: 'other', limit: 2, labelSelector: 'page=yes' });
    assert.deepEqual(first.items.map((c) => c.metadata!.name), ['page-0', 'page-1']);
    assert.equal(first.metadata!.remainingItemCount, 3);
    const second = await core.listNamespacedConfigMap({ namespace: 'other', limit: 2, labelSelector: 'page=yes', _continue: first.metadata!._continue });
    assert.deepEqual(second.items.map((c) => c.metadata!.name), ['page-2', 'page-3']);
    const dry = await core.createNamespacedConfigMap({ namespace: 'other', dryRun: 'All', body: { metadata: { name: 'dry' } } });
    assert.equal(dry.metadata!.name, 'dry');
    await failing(core.readNamespacedConfigMap({ name: 'dry', namespace: 'other' }));
  });
});
