import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../../../src/kube/config';
import { httpError, networkError } from '../../../src/kube/errors';
import { connect } from '../../../src/kube/ops';
import { startSandbox, type Sandbox } from '../../../src/sandbox';
import type { KubeError, WatchEvent } from '../../../src/engine/ports';

const kc = (ctx: string, server: string, extra = '') => `apiVersion: v1
kind: Config
current-context: ${ctx}
clusters:
- name: ${ctx}
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true${extra}
users:
- name: ${ctx}
  user:
    token: t-${ctx}
contexts:
- name: ${ctx}
  context:
    cluster: ${ctx}
    user: ${ctx}
    namespace: ns-${ctx}
`;

describe('kubeconfig loading', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kd-kc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('merges several files in order: the first current-context and the first same-named entry win', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, kc('alpha', 'http://127.0.0.1:1111'));
    // b also defines a cluster named alpha, which must not replace a's.
    writeFileSync(b, kc('beta', 'http://127.0.0.1:2222').replace('clusters:\n', 'clusters:\n- name: alpha\n  cluster:\n    server: http://evil:9\n'));
    const r = loadKubeconfig({ paths: [a, b] });
    assert.ok(r.ok, !r.ok ? r.message : '');
    assert.equal(r.value.context, 'alpha');
    assert.equal(r.value.server, 'http://127.0.0.1:1111');
    const rb = loadKubeconfig({ paths: [a, b], context: 'beta' });
    assert.ok(rb.ok);
    assert.equal(rb.value.server, 'http://127.0.0.1:2222');
    assert.equal(rb.value.namespace, 'ns-beta');
  });

  it('reads KUBECONFIG from the given environment and skips missing files in it like kubectl', () => {
    const a = join(dir, 'a');
    writeFileSync(a, kc('alpha', 'http://127.0.0.1:1111'));
    const r = loadKubeconfig({ env: { KUBECONFIG: `${join(dir, 'missing')}:${a}` } });
    assert.ok(r.ok, !r.ok ? r.message : '');
    assert.equal(r.value.context, 'alpha');
  });

  it('resolves relative certificate paths against the kubeconfig file', () => {
    mkdirSync(join(dir, 'certs'));
    const a = join(dir, 'a');
    writeFileSync(a, kc('alpha', 'https://127.0.0.1:1111', '\n    certificate-authority: certs/ca.crt'));
    const r = loadKubeconfig({ paths: [a] });
    assert.ok(r.ok);
    assert.equal((r.value.kc.clusters[0] as { caFile?: string }).caFile, join(dir, 'certs/ca.crt'));
  });

  it('takes inline YAML, and says which contexts exist when one is missing', () => {
    const r = loadKubeconfig({ yaml: kc('sandbox', 'http://127.0.0.1:3333'), context: 'prod' });
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /context 'prod' not found in \(inline\) \(contexts: sandbox\)/);
    const missing = loadKubeconfig({ paths: [join(dir, 'nope')] });
    assert.match((missing as { message: string }).message, /kubeconfig .*nope cannot be read \(ENOENT\)/);
  });
});

describe('error messages', () => {
  const c = { context: 'prod-eu', server: 'https://k8s.example:6443' };
  it('403 names the verb, the resource and how to check', () => {
    const e = httpError(403, JSON.stringify({ kind: 'Status', message: 'virtualservices.networking.istio.io "payments" is forbidden: User "bob" cannot patch resource', reason: 'Forbidden' }), { verb: 'patch', resource: 'virtualservices.networking.istio.io', namespace: 'payments', name: 'payments' }, c);
    assert.equal(e.kind, 'forbidden');
    assert.match(e.message, /^forbidden: cannot patch virtualservices\.networking\.istio\.io "payments" in namespace payments \(context 'prod-eu'\)/);
    assert.match(e.message, /kubectl auth can-i patch virtualservices\.networking\.istio\.io -n payments/);
  });
  it('404 names the object; 409 AlreadyExists and Conflict differ', () => {
    assert.equal(httpError(404, '', { verb: 'get', resource: 'deployments.apps', namespace: 'shop', name: 'web', kind: 'Deployment' }, c).message, 'Deployment web not found in namespace shop');
    assert.equal(httpError(409, JSON.stringify({ kind: 'Status', reason: 'AlreadyExists' }), { verb: 'create', resource: 'jobs.batch', namespace: 'x', name: 'j', kind: 'Job' }, c).kind, 'alreadyExists');
    const conflict = httpError(409, JSON.stringify({ kind: 'Status', reason: 'Conflict' }), { verb: 'update', resource: 'configmaps', namespace: 'x', name: 'r', kind: 'ConfigMap' }, c);
    assert.equal(conflict.kind, 'conflict');
    assert.equal(conflict.transient, true);
  });
  it('an unreachable cluster names the context and the server', () => {
    const e = networkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { verb: 'get', resource: 'deployments.apps' }, c, 15000);
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, /cannot reach the cluster of context 'prod-eu' at https:\/\/k8s\.example:6443 \(ECONNREFUSED\)/);
    const t = networkError(new DOMException('timeout', 'TimeoutError'), { verb: 'list', resource: 'pods' }, c, 15000);
    assert.equal(t.kind, 'timeout');
    assert.match(t.message, /did not answer list pods within 15s/);
  });
});

describe('KubeOps over HTTP against the sandbox', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ port: 0, speed: 1, trafficRps: 0 });
  });
  after(async () => sb.close());

  const ops = () => {
    const c = connect({ yaml: sb.kubeconfig, timeoutMs: 5000 });
    if (!c.ok) throw new Error(c.message);
    return c.ops;
  };

  it('creates, reads, patches, conflicts and deletes; a missing object is undefined', async () => {
    const o = ops();
    await o.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kt' } });
    const cm = await o.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'kt', labels: { a: 'b' } }, data: { k: 'v' } });
    assert.equal((await o.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kt', name: 'c' }))?.data?.k, 'v');
    await o.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kt', name: 'c' }, { data: { k: 'w' } });
    await assert.rejects(o.replace({ ...cm, data: { k: 'stale' } }), (e: KubeError) => e.kind === 'conflict' && e.transient);
    await assert.rejects(o.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'kt' } }), (e: KubeError) => e.kind === 'alreadyExists');
    assert.equal((await o.list('v1', 'ConfigMap', 'kt', 'a=b')).length, 1);
    await o.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kt', name: 'c' });
    assert.equal(await o.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kt', name: 'c' }), undefined);
    await assert.rejects(o.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kt', name: 'ghost' }, {}), (e: KubeError) => e.kind === 'notFound' && /Deployment ghost not found in namespace kt/.test(e.message));
    o.dispose();
  });

  for (const mode of ['watch-list', 'LIST + watch'] as const) {
    it(`the informer (${mode}) keeps the cache right through cut streams and 410 Expired, re-syncing what it missed`, async () => {
      const o = ops();
      if (mode === 'LIST + watch') o.http.watchListSupported = false;
      const ns = mode === 'watch-list' ? 'kw' : 'kl';
      await o.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const cache = new Map<string, string>();
      const errors: KubeError[] = [];
      const w = o.watch('v1', 'ConfigMap', ns, undefined, (e: WatchEvent) => {
        if (e.type === 'DELETED') cache.delete(e.object.metadata.name);
        else cache.set(e.object.metadata.name, e.object.data?.v ?? '');
      }, (e) => errors.push(e));
      await w.synced;
      sb.admin.setFaults({ watchCutAfterEvents: 2, forceWatchExpired: 3 });
      for (let i = 0; i < 12; i++) await o.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `m${i}`, namespace: ns }, data: { v: String(i) } });
      await o.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'm3' });
      await o.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'm5' }, { data: { v: 'five' } });
      // Wait (on events, with a deadline) until the cache matches the store.
      const want = () => JSON.stringify([...cache.entries()].sort()) === JSON.stringify(Array.from({ length: 12 }, (_, i) => i).filter((i) => i !== 3).map((i) => [`m${i}`, i === 5 ? 'five' : String(i)]).sort());
      const deadline = Date.now() + 15_000;
      while (!want() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      sb.admin.clearFaults();
      assert.ok(want(), `cache: ${JSON.stringify([...cache.entries()])}`);
      // The faults were really hit: the stream was reopened, and the 410s forced re-syncs (streamed ones
      // that the cut fault also cuts fall back to a LIST, so both modes list here).
      const st = o.stats();
      assert.ok((st.byVerb.watch ?? 0) >= 4, `watches opened: ${st.byVerb.watch}`);
      assert.ok((st.byVerb.list ?? 0) >= (mode === 'watch-list' ? 1 : 2), `lists: ${st.byVerb.list}`);
      if (mode === 'watch-list') assert.notEqual(o.http.watchListSupported, false, 'a cut stream does not turn watch-list off');
      w.dispose();
      o.dispose();
    });
  }

  it('an unreachable cluster fails fast with context and server named', async () => {
    const c = connect({ yaml: kc('gone', 'http://127.0.0.1:1'), timeoutMs: 2000 });
    assert.ok(c.ok);
    await assert.rejects(c.ops.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'x', name: 'y' }), (e: KubeError) => e.kind === 'unreachable' && /context 'gone' at http:\/\/127\.0\.0\.1:1/.test(e.message));
  });

  it('reaches Prometheus through the service proxy', async () => {
    const o = ops();
    const body = (await o.prometheus({ service: { namespace: 'monitoring', name: 'prometheus', port: 9090 } }, 'vector(1)', sb.clock.now() / 1000)) as { status: string };
    assert.equal(body.status, 'success');
    const bad = (await o.prometheus({ service: { namespace: 'monitoring', name: 'prometheus', port: 9090 } }, 'predict_linear(x[5m], 1)', sb.clock.now() / 1000)) as { status: string };
    assert.equal(bad.status, 'error');
    o.dispose();
  });
});
