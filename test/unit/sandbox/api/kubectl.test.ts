// kubectl 1.32 (subprocess) against the bare sandbox API server: discovery, tables, protobuf creates,
// patches, apply, describe, events, logs, delete and watch, asserting on kubectl's own output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBare, waitFor, type Harness } from './harness';
import { collect, kubectlFor, type Kubectl } from './kubectl';

const EXAMPLE = path.resolve(__dirname, '../../../../examples/k8s/payments.yaml');

/** Our own manifest for the case examples/ is missing: Deployment + Service + VirtualService. */
const FALLBACK_MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: {name: payments, labels: {app: payments}}
spec:
  replicas: 4
  selector: {matchLabels: {app: payments}}
  template:
    metadata: {labels: {app: payments}}
    spec: {containers: [{name: api, image: registry.example.com/payments:3.1.0, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: payments}
spec: {selector: {app: payments}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: payments}
spec:
  hosts: [payments]
  http: [{route: [{destination: {host: payments, subset: stable}, weight: 100}]}]
`;

/** Splits kubectl's table output into rows of cells (2+ spaces separate columns). */
function table(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));
}

describe('sandbox API with kubectl (bare server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let k: Kubectl;

  before(async () => {
    h = await startBare();
    k = kubectlFor(h.kubeconfig);
  });
  after(async () => {
    k?.cleanup();
    await h?.close();
  });

  it('get ns prints the server-side table', async () => {
    const rows = table(await k.ok(['get', 'ns']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 2)), [['default', 'Active'], ['kube-node-lease', 'Active'], ['kube-public', 'Active'], ['kube-system', 'Active']]);
  });

  it('create deployment (protobuf body) then get deploy -o json', async () => {
    assert.match(await k.ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3', '--port=8080']), /deployment.apps\/web created/);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.kind, 'Deployment');
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.25');
    assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, 8080);
    assert.equal(d.metadata.generation, 1);
    const stored = h.store.get('deployments.apps', 'default', 'web');
    assert.equal(stored.metadata.uid, d.metadata.uid);
    const zero = await k.ok(['create', 'deployment', 'idle', '--image=nginx', '--replicas=0']);
    assert.match(zero, /created/);
    assert.equal((h.store.get('deployments.apps', 'default', 'idle').spec as { replicas: number }).replicas, 0, 'pointer field replicas: 0 survives protobuf');
    await k.ok(['create', 'configmap', 'settings', '--from-literal=color=blue']);
    await k.ok(['create', 'secret', 'generic', 'creds', '--from-literal=user=admin']);
    await k.ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    await k.ok(['create', 'namespace', 'team-a']);
    await k.ok(['create', 'ingress', 'web', '--class=nginx', '--rule=shop.example.com/*=web:80,tls=shop-cert']);
    const ing = h.store.get('ingresses.networking.k8s.io', 'default', 'web').spec as { ingressClassName: string; rules: { host: string; http: { paths: { path: string; backend: { service: { name: string; port: { number: number } } } }[] } }[]; tls: { secretName: string }[] };
    assert.equal(ing.ingressClassName, 'nginx');
    assert.equal(ing.rules[0].host, 'shop.example.com');
    assert.deepEqual(ing.rules[0].http.paths[0].backend.service, { name: 'web', port: { number: 80 } });
    assert.equal(ing.tls[0].secretName, 'shop-cert');
    assert.deepEqual(h.store.get('configmaps', 'default', 'settings').data, { color: 'blue' });
    assert.equal((h.store.get('secrets', 'default', 'creds').data as Record<string, string>).user, Buffer.from('admin').toString('base64'));
    const svc = h.store.get('services', 'default', 'web').spec as { ports: { port: number; targetPort: number }[]; selector: Record<string, string> };
    assert.deepEqual([svc.ports[0].port, svc.ports[0].targetPort, svc.selector.app], [80, 8080, 'web']);
    const rows = table(await k.ok(['get', 'deploy']));
    assert.deepEqual(rows[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    assert.deepEqual(rows.find((r) => r[0] === 'web')!.slice(0, 4), ['web', '0/3', '0', '0']);
    const wide = table(await k.ok(['get', 'deploy', 'web', '-o', 'wide']));
    assert.deepEqual(wide[0].slice(5), ['CONTAINERS', 'IMAGES', 'SELECTOR']);
    assert.deepEqual(wide[1].slice(5), ['nginx', 'nginx:1.25', 'app=web']);
  });

  it('scale and set image', async () => {
    assert.match(await k.ok(['scale', 'deployment/web', '--replicas=5']), /deployment.apps\/web scaled/);
    assert.equal((h.store.get('deployments.apps', 'default', 'web').spec as { replicas: number }).replicas, 5);
    assert.match(await k.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.26']), /image updated/);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.equal(d.metadata.generation, 3);
    assert.equal(await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  it('patch --type merge | json | strategic', async () => {
    assert.match(await k.ok(['patch', 'deploy', 'web', '--type', 'merge', '-p', '{"metadata":{"labels":{"tier":"frontend"}}}']), /patched/);
    assert.match(await k.ok(['patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]']), /patched/);
    assert.match(await k.ok(['patch', 'deploy', 'web', '--type', 'strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"MODE","value":"fast"}]}]}}}}']), /patched/);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.metadata.labels.tier, 'frontend');
    assert.equal(d.spec.replicas, 2);
    assert.equal(d.spec.template.spec.containers.length, 1, 'strategic merge kept one container, merged by name');
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'fast' }]);
    const bad = await k.run(['patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /test operation failed/);
    const missing = await k.run(['patch', 'deploy', 'nope', '--type', 'merge', '-p', '{}']);
    assert.match(missing.stderr, /Error from server \(NotFound\): deployments.apps "nope" not found/);
  });

  it('describe deployment shows spec, replicas and events', async () => {
    const d = h.store.get('deployments.apps', 'default', 'web');
    h.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default', uid: d.metadata.uid },
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set web-5d4f8c7b9 from 0 to 2',
      type: 'Normal',
      source: { component: 'deployment-controller' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    });
    const out = await k.ok(['describe', 'deployment', 'web']);
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, /^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    assert.match(out, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(out, /Image:\s+nginx:1.26/);
    assert.match(out, /Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-5d4f8c7b9 from 0 to 2/);
  });

  it('get events lists them with LAST SEEN, TYPE, REASON, OBJECT, MESSAGE', async () => {
    const rows = table(await k.ok(['get', 'events']));
    assert.deepEqual(rows[0], ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    assert.deepEqual(rows[1].slice(1), ['Normal', 'ScalingReplicaSet', 'deployment/web', 'Scaled up replica set web-5d4f8c7b9 from 0 to 2']);
    const filtered = await k.ok(['get', 'events', '--field-selector', 'involvedObject.kind=Pod']);
    assert.equal(filtered.trim(), '');
    const unsupported = await k.run(['get', 'pods', '--field-selector', 'spec.nodename=x']);
    assert.equal(unsupported.code, 1, 'a misspelt field label is an error, as on a real cluster, not "No resources found"');
    assert.match(unsupported.stderr, /Error from server \(BadRequest\):.*field label not supported: spec\.nodename/);
  });

  it('apply -f an example manifest: created, then unchanged, then configured; get virtualservices', async () => {
    const file = fs.existsSync(EXAMPLE) ? EXAMPLE : path.join(k.dir, 'payments.yaml');
    if (file !== EXAMPLE) fs.writeFileSync(file, FALLBACK_MANIFEST);
    const first = await k.ok(['apply', '-f', file]);
    assert.match(first, /deployment.apps\/payments created/);
    assert.match(first, /service\/payments created/);
    assert.match(first, /virtualservice.networking.istio.io\/payments created/);
    const again = await k.ok(['apply', '-f', file]);
    assert.match(again, /deployment.apps\/payments unchanged/);
    assert.match(again, /virtualservice.networking.istio.io\/payments unchanged/);
    const changed = fs.readFileSync(file, 'utf8').replace('replicas: 4', 'replicas: 6');
    const changedFile = path.join(k.dir, 'payments-6.yaml');
    fs.writeFileSync(changedFile, changed);
    assert.match(await k.ok(['apply', '-f', changedFile]), /deployment.apps\/payments configured/);
    assert.equal((h.store.get('deployments.apps', 'default', 'payments').spec as { replicas: number }).replicas, 6);
    const vs = table(await k.ok(['get', 'virtualservices']));
    assert.deepEqual(vs[0], ['NAME', 'GATEWAYS', 'HOSTS', 'AGE']);
    assert.equal(vs[1][0], 'payments');
    assert.match(vs[1][1], /\["payments"\]/);
    assert.match(await k.ok(['get', 'vs', 'payments', '-o', 'jsonpath={.spec.http[0].route[0].weight}']), /^100$/);
    assert.match(await k.ok(['apply', '--server-side', '-f', changedFile]), /serverside-applied/);
    await k.ok(['scale', 'deployment/payments', '--replicas=2']);
    // kubectl scale writes as "kubectl" (its User-Agent), like `apply --server-side`: another manager clashes.
    const clash = await k.run(['apply', '--server-side', '--field-manager=ci', '-f', changedFile]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "kubectl[^"]*"( using apps\/v1)?: \.spec\.replicas/);
    assert.match(await k.ok(['apply', '--server-side', '--field-manager=ci', '--force-conflicts', '-f', changedFile]), /serverside-applied/);
    assert.equal((h.store.get('deployments.apps', 'default', 'payments').spec as { replicas: number }).replicas, 6);
    const all = await k.ok(['get', 'all']);
    assert.match(all, /deployment.apps\/payments/);
    assert.match(all, /service\/payments/);
  });

  it('diff, replace, label and annotate; api-resources lists the short names', async () => {
    const file = path.join(k.dir, 'cm.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: green}\n');
    const diff = await k.run(['diff', '-f', file]);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /^-\s+color: blue$/m);
    assert.match(diff.stdout, /^\+\s+color: green$/m);
    assert.deepEqual(h.store.get('configmaps', 'default', 'settings').data, { color: 'blue' }, 'diff is a dry run');
    assert.match(await k.ok(['replace', '-f', file]), /configmap\/settings replaced/);
    assert.deepEqual(h.store.get('configmaps', 'default', 'settings').data, { color: 'green' });
    await k.ok(['label', 'configmap', 'settings', 'owner=team-a']);
    await k.ok(['annotate', 'configmap', 'settings', 'note=hello']);
    await k.ok(['label', 'configmap', 'settings', 'owner-']);
    const cm = h.store.get('configmaps', 'default', 'settings');
    assert.equal(cm.metadata.labels, undefined);
    assert.equal(cm.metadata.annotations?.note, 'hello');
    const res = table(await k.ok(['api-resources']));
    const short = new Map(res.slice(1).filter((r) => r.length === 5).map((r) => [r[0], r[1]]));
    for (const [name, sn] of [['deployments', 'deploy'], ['replicasets', 'rs'], ['pods', 'po'], ['services', 'svc'], ['namespaces', 'ns'], ['configmaps', 'cm'], ['events', 'ev'], ['ingresses', 'ing'], ['virtualservices', 'vs'], ['destinationrules', 'dr'], ['httproutes', 'httproute'], ['endpoints', 'ep'], ['nodes', 'no']]) {
      assert.equal(short.get(name), sn, name);
    }
  });

  it('a misspelt field: apply fails with a strict decoding error (kubectl validates on the server), patch warns and drops it', async () => {
    const file = path.join(k.dir, 'typo.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatas: {color: green}\n');
    const applied = await k.run(['apply', '-f', file]);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /Error from server \(BadRequest\): error when creating ".*typo\.yaml": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "datas"/);
    assert.equal(h.store.tryGet('configmaps', 'default', 'typo'), undefined);
    const patched = await k.run(['patch', 'configmap', 'settings', '-p', '{"datas":{"a":"b"}}']);
    assert.equal(patched.code, 0, patched.stderr);
    assert.match(patched.stderr, /^Warning: unknown field "datas"$/m);
    assert.equal('datas' in h.store.get('configmaps', 'default', 'settings'), false);
  });

  it("apply -f of an app's companion objects (ServiceAccount, RBAC, PVC, HPA, PDB, NetworkPolicy): created, listed by short name, deleted with the namespace", async () => {
    const manifest = `apiVersion: v1
kind: Namespace
metadata: {name: companions}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: companions}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web-reader, namespace: companions}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reader, namespace: companions}
subjects: [{kind: ServiceAccount, name: web, namespace: companions}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web-reader}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: cache, namespace: companions}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: companions}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: companions}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: companions}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress], ingress: [{from: [{podSelector: {}}]}]}
`;
    const file = path.join(k.dir, 'companions.yaml');
    fs.writeFileSync(file, manifest);
    const out = await k.ok(['apply', '-f', file]);
    for (const what of ['namespace/companions', 'serviceaccount/web', 'role.rbac.authorization.k8s.io/web-reader', 'rolebinding.rbac.authorization.k8s.io/web-reader', 'persistentvolumeclaim/cache', 'horizontalpodautoscaler.autoscaling/web', 'poddisruptionbudget.policy/web', 'networkpolicy.networking.k8s.io/web']) {
      assert.match(out, new RegExp(`^${what.replace(/\./g, '\\.')} created$`, 'm'), out);
    }
    assert.match(await k.ok(['apply', '-f', file]), /^horizontalpodautoscaler\.autoscaling\/web unchanged$/m);
    const names = (await k.ok(['get', 'sa,role,rolebinding,pvc,hpa,pdb,netpol', '-n', 'companions', '-o', 'name'])).trim().split('\n');
    assert.deepEqual(names.filter((n) => !n.startsWith('serviceaccount/default')), [
      'serviceaccount/web',
      'role.rbac.authorization.k8s.io/web-reader',
      'rolebinding.rbac.authorization.k8s.io/web-reader',
      'persistentvolumeclaim/cache',
      'horizontalpodautoscaler.autoscaling/web',
      'poddisruptionbudget.policy/web',
      'networkpolicy.networking.k8s.io/web',
    ]);
    const hpa = JSON.parse(await k.ok(['get', 'hpa', 'web', '-n', 'companions', '-o', 'json'])) as { apiVersion: string; spec: { maxReplicas: number } };
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal(hpa.spec.maxReplicas, 5);
    assert.match(await k.ok(['delete', 'ns', 'companions']), /namespace "companions" deleted/);
    const left = await k.run(['get', 'sa,pvc,pdb', '-n', 'companions', '-o', 'name']);
    assert.equal(left.stdout.trim(), '', 'the namespace took its objects with it');
  });

  it('logs prints what the log provider serves for the pod', async () => {
    h.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-abc-12345', namespace: 'default', labels: { app: 'web' } }, spec: { nodeName: 'sandbox-node', containers: [{ name: 'nginx', image: 'nginx:1.26' }] } });
    h.store.modify('pods', 'default', 'web-abc-12345', (p) => void (p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), { subresource: 'status' });
    h.api.hooks.podLogs = (r) => Array.from({ length: 5 }, (_, i) => `${r.container} request ${i}\n`).join('');
    assert.equal(await k.ok(['logs', 'web-abc-12345']), 'nginx request 0\nnginx request 1\nnginx request 2\nnginx request 3\nnginx request 4\n');
    assert.equal(await k.ok(['logs', 'web-abc-12345', '--tail=2']), 'nginx request 3\nnginx request 4\n');
    const missing = await k.run(['logs', 'nope']);
    assert.match(missing.stderr, /pods "nope" not found/);
  });

  it('get -w prints the initial row and then changes; delete waits for the deletion', async () => {
    const child = k.spawn(['get', 'deploy', 'web', '-w']);
    const out = collect(child);
    try {
      await out.until((t) => /^web\s+0\/2\s/m.test(t));
      await waitFor('watch registered', () => h.store.watcherCount() > 0);
      await k.ok(['scale', 'deploy/web', '--replicas=4']);
      await out.until((t) => /^web\s+0\/4\s/m.test(t));
    } finally {
      child.kill();
    }
    assert.match(await k.ok(['delete', 'deployment', 'web']), /deployment.apps "web" deleted/);
    assert.equal(h.store.tryGet('deployments.apps', 'default', 'web'), undefined);
    const gone = await k.run(['get', 'deploy', 'web']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /Error from server \(NotFound\): deployments.apps "web" not found/);
    assert.match(await k.ok(['delete', 'ns', 'team-a']), /namespace "team-a" deleted/);
  });
});
