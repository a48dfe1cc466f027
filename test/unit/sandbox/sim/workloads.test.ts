import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/sandbox/api/store';
import { podLogs } from '../../../../src/sandbox/sim/logs';
import { withHarness, deployment, service, status, condition, podsOf, type Harness } from './helpers';

function job(name: string, image: string, extra: Record<string, unknown> = {}, restartPolicy = 'Never'): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'demo' },
    spec: {
      ...extra,
      template: { spec: { restartPolicy, containers: [{ name: 'test', image, command: ['curl', '-fsS', 'http://web/healthz'], env: [{ name: 'TARGET_URL', value: 'http://web' }] }] } },
    },
  };
}

const logsOf = (h: Harness, pod: KubeObject, opts: { previous?: boolean; tailLines?: number } = {}): string =>
  podLogs(h.sim.controllers.kubelet, h.clock, {
    namespace: pod.metadata.namespace!,
    pod,
    container: (pod.spec as { containers: { name: string }[] }).containers[0].name,
    follow: false,
    previous: opts.previous ?? false,
    timestamps: false,
    tailLines: opts.tailLines,
    signal: new AbortController().signal,
  }) as string;

describe('sandbox Jobs, Endpoints and logs', () => {
  let h: Harness;
  withHarness((x) => (h = x), { namespaces: ['demo'] });

  it('a Job with a healthy image completes', async () => {
    h.store.create('jobs.batch', job('smoke', 'curlimages/curl:8.10.1'));
    const done = () => condition(h.store.tryGet('jobs.batch', 'demo', 'smoke'), 'Complete')?.status === 'True';
    assert.ok(await h.clock.advanceUntil(done, 120_000));
    const j = h.store.get('jobs.batch', 'demo', 'smoke');
    const s = status<{ succeeded: number; active?: number; failed?: number; completionTime?: string; startTime?: string }>(j);
    assert.equal(s.succeeded, 1);
    assert.equal(s.active, undefined);
    assert.ok(s.completionTime && s.startTime);
    assert.equal(condition(j, 'SuccessCriteriaMet')?.status, 'True');
    const [pod] = podsOf(h.store, 'demo', { 'job-name': 'smoke' });
    assert.equal(status<{ phase: string }>(pod).phase, 'Succeeded');
    assert.match(logsOf(h, pod), /200 OK[\s\S]*PASS/);
  });

  it('pods created without a node (kubectl run, Job pods) are bound to the node they run on, spread over the nodes', async () => {
    for (const name of ['solo-1', 'solo-2', 'solo-3']) h.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    h.store.create('jobs.batch', job('bound', 'curlimages/curl:8.10.1'));
    const nodeOf = (p: KubeObject | undefined) => (p?.spec as { nodeName?: string } | undefined)?.nodeName;
    const pods = () => [...['solo-1', 'solo-2', 'solo-3'].map((n) => h.store.tryGet('pods', 'demo', n)), ...podsOf(h.store, 'demo', { 'job-name': 'bound' })];
    assert.ok(await h.clock.advanceUntil(() => pods().length === 4 && pods().every((p) => nodeOf(p)), 10_000), 'every pod gets a node');
    assert.deepEqual(new Set(pods().slice(0, 3).map(nodeOf)).size, 3, 'spread over the three nodes');
    for (const p of pods()) {
      const events = h.store.list('events', 'demo', { fieldSelector: `involvedObject.name=${p!.metadata.name},reason=Scheduled` }).items;
      assert.equal(events[0]?.message, `Successfully assigned demo/${p!.metadata.name} to ${nodeOf(p)}`, 'the Scheduled event names the node it is bound to');
    }
  });

  it('a Job with a -fail image retries up to backoffLimit, then fails with a log line saying why', async () => {
    h.store.create('jobs.batch', job('contract', 'tests:1.0-fail', { backoffLimit: 1 }));
    const failed = () => condition(h.store.tryGet('jobs.batch', 'demo', 'contract'), 'Failed')?.status === 'True';
    assert.ok(await h.clock.advanceUntil(failed, 300_000, 2_000));
    const j = h.store.get('jobs.batch', 'demo', 'contract');
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(status<{ failed: number }>(j).failed, 2);
    const pods = podsOf(h.store, 'demo', { 'job-name': 'contract' });
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => status<{ phase: string }>(p).phase === 'Failed'));
    const log = logsOf(h, pods[0]);
    assert.match(log, /curl: \(22\) The requested URL returned error: 500/);
    assert.match(log, /FAIL: expected HTTP 200/);
    assert.equal(logsOf(h, pods[0], { tailLines: 1 }).trim().split('\n').length, 1);
  });

  it('with restartPolicy OnFailure, container restarts count against backoffLimit', async () => {
    h.store.create('jobs.batch', job('flaky', 'tests:1.0-fail', { backoffLimit: 2 }, 'OnFailure'));
    const failed = () => condition(h.store.tryGet('jobs.batch', 'demo', 'flaky'), 'Failed')?.status === 'True';
    assert.ok(await h.clock.advanceUntil(failed, 600_000, 2_000));
    assert.equal(condition(h.store.get('jobs.batch', 'demo', 'flaky'), 'Failed')?.reason, 'BackoffLimitExceeded');
  });

  it('activeDeadlineSeconds fails a Job that runs too long', async () => {
    h.store.create('jobs.batch', job('slow', 'tests:1.0', { activeDeadlineSeconds: 5 }));
    const failed = () => condition(h.store.tryGet('jobs.batch', 'demo', 'slow'), 'Failed')?.status === 'True';
    assert.ok(await h.clock.advanceUntil(failed, 60_000));
    assert.equal(condition(h.store.get('jobs.batch', 'demo', 'slow'), 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(podsOf(h.store, 'demo', { 'job-name': 'slow' }).length, 0, 'active pods are removed');
  });

  it('Endpoints follow readiness: not-ready pods first, ready ones once Ready, gone with the pod', async () => {
    h.store.create('services', service('demo', 'web', { app: 'web' }));
    h.store.create('deployments.apps', deployment({ replicas: 2, image: 'web:1-slow20' }));
    const ep = () => h.store.tryGet('endpoints', 'demo', 'web') as (KubeObject & { subsets?: { addresses?: { ip: string; targetRef: { name: string } }[]; notReadyAddresses?: unknown[]; ports: { port: number; name?: string }[] }[] }) | undefined;
    assert.ok(await h.clock.advanceUntil(() => (ep()?.subsets?.[0]?.notReadyAddresses?.length ?? 0) === 2, 30_000, 500));
    assert.equal(ep()!.subsets![0].addresses, undefined);
    assert.deepEqual(ep()!.subsets![0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.ok(await h.clock.advanceUntil(() => (ep()?.subsets?.[0]?.addresses?.length ?? 0) === 2, 60_000, 1_000));
    assert.equal(ep()!.subsets![0].notReadyAddresses, undefined);
    const names = ep()!.subsets![0].addresses!.map((a) => a.targetRef.name).sort();
    assert.deepEqual(names, podsOf(h.store, 'demo', { app: 'web' }).map((p) => p.metadata.name).sort());
    h.store.modify('deployments.apps', 'demo', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 0));
    assert.ok(await h.clock.advanceUntil(() => ep() !== undefined && ep()!.subsets === undefined, 30_000));
  });

  it('crash logs: the previous container ends with the panic; no previous before a restart', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 1, image: 'web:1-crash' }));
    const restarted = () => {
      const [p] = podsOf(h.store, 'demo', { app: 'web' });
      return (status<{ containerStatuses?: { restartCount: number }[] }>(p).containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    };
    await h.clock.advance(0);
    const [fresh] = podsOf(h.store, 'demo', { app: 'web' });
    assert.throws(() => logsOf(h, fresh, { previous: true }), /previous terminated container "app"/);
    assert.ok(await h.clock.advanceUntil(restarted, 120_000));
    const [p] = podsOf(h.store, 'demo', { app: 'web' });
    assert.match(logsOf(h, p, { previous: true }), /panic: runtime error/);
  });

  it('follow streams new lines until the client goes away', async () => {
    h.store.create('deployments.apps', deployment({ replicas: 1, image: 'web:1-crash' }));
    await h.clock.advance(4_000);
    const [p] = podsOf(h.store, 'demo', { app: 'web' });
    const ac = new AbortController();
    const stream = podLogs(h.sim.controllers.kubelet, h.clock, { namespace: 'demo', pod: p, container: 'app', follow: true, previous: false, timestamps: true, signal: ac.signal });
    assert.equal(typeof stream, 'object');
    const it = (stream as AsyncIterable<string>)[Symbol.asyncIterator]();
    const first = await it.next();
    assert.match(String(first.value), /^\d{4}-\d\d-\d\dT\S+Z level=info msg="starting"/);
    await h.clock.advance(2_000); // the crash writes its panic
    const next = await it.next();
    assert.match(String(next.value), /panic: runtime error/);
    ac.abort();
    assert.equal((await it.next()).done, true);
  });
});
