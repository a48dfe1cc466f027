// The engine against the in-process sandbox (real HTTP, watches, controllers, traffic and Prometheus),
// on a fast clock shared by both.
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../../../src/sandbox';
import { createClusterRolloutService } from '../../../src/kube';
import type { EngineService } from '../../../src/engine/service';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import type { Pipeline } from '../../../src/deployfile/model';
import { sumOf } from '../../../src/engine/weights';
import { examplePipeline, terminal } from './harness';

const SPEED = 120;
const DEADLINE_MS = 60_000;

interface RouterWrite {
  kind: string;
  name: string;
  weights: number[];
}

/** Router objects as the store commits them (VirtualService / HTTPRoute / canary Ingress / Deployment scale). */
function watchRouter(sb: Sandbox, namespace: string): { writes: RouterWrite[]; stop: () => void } {
  const writes: RouterWrite[] = [];
  const stop = sb.store.onChange((e) => {
    const o = e.object as { kind?: string; metadata: { name: string; namespace?: string }; spec?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (o.metadata.namespace !== namespace || e.type === 'DELETED') return;
    if (e.resource.startsWith('virtualservices')) writes.push({ kind: 'VirtualService', name: o.metadata.name, weights: o.spec.http[0].route.map((r: { weight?: number }) => r.weight ?? 0) });
    if (e.resource.startsWith('httproutes')) writes.push({ kind: 'HTTPRoute', name: o.metadata.name, weights: o.spec.rules[0].backendRefs.map((r: { weight?: number }) => r.weight ?? 1) });
  });
  return { writes, stop };
}

async function run(svc: EngineService, pipeline: Pipeline, opts: { image?: string; promote?: boolean; onSnapshot?: (s: RolloutSnapshot) => void; abortWhen?: (s: RolloutSnapshot) => boolean } = {}): Promise<RolloutSnapshot> {
  const target = { pipeline, environment: 'staging' };
  let aborted = false;
  const result = new Promise<RolloutSnapshot>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no end within ${DEADLINE_MS / 1000}s`)), DEADLINE_MS);
    let started = false;
    const w = svc.watch(target, (s) => {
      opts.onSnapshot?.(s);
      if (process.env.KD_DEBUG) console.log(s.phase, s.reason, s.error?.message ?? '');
      if (s.runId) started = true;
      if (opts.promote !== false && s.gate?.kind === 'manual' && s.actions.promote.allowed) void svc.act(target, 'promote', { actor: 'test' });
      if (opts.abortWhen && !aborted && opts.abortWhen(s)) {
        aborted = true;
        void svc.act(target, 'abort', { actor: 'test' });
      }
      if (started && terminal(s)) {
        clearTimeout(timer);
        w.dispose();
        resolve(s);
      }
    });
  });
  const r = await svc.act(target, 'start', { image: opts.image, actor: 'test' });
  assert.ok(r.ok, !r.ok ? r.message : '');
  const s = await result;
  await svc.drained();
  return s;
}

describe('engine against the sandbox', function () {
  this.timeout(90_000);
  let sb: Sandbox;
  let svc: EngineService;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, speed: SPEED, seed: 'examples' });
    svc = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'test-a', log: process.env.KD_DEBUG ? (m) => console.log('[a]', m) : undefined });
  });
  afterEach(async () => {
    svc.dispose();
    await sb.close();
  });

  for (const file of ['simple.deploy.yaml', 'canary-replicas.deploy.yaml', 'canary-istio.deploy.yaml', 'canary-gateway.deploy.yaml', 'blue-green.deploy.yaml']) {
    it(`${file}: runs to success, manual gates promoted, invariants on every snapshot and router write`, async () => {
      const p = examplePipeline(file);
      const ns = p.environments[0].namespace;
      const router = watchRouter(sb, ns);
      const stageMax = (s: RolloutSnapshot) => Math.max(...s.stages.filter((x) => x.state !== 'pending' && x.state !== 'skipped').map((x) => x.weights.canary), 0);
      let maxSeen = 0;
      const done = await run(svc, p, {
        onSnapshot: (s) => {
          assert.equal(sumOf(s.weights.requested), 100);
          assert.equal(sumOf(s.weights.actual), 100);
          if (s.strategy === 'canary' && !terminal(s) && !s.reason.includes('promoting')) assert.ok(s.weights.requested.canary <= stageMax(s), `canary ${s.weights.requested.canary} > ${stageMax(s)}`);
          maxSeen = Math.max(maxSeen, stageMax(s));
        },
      });
      router.stop();
      assert.equal(done.phase, 'succeeded', done.reason);
      for (const w of router.writes) assert.equal(w.weights.reduce((a, b) => a + b, 0), 100, `${w.kind} weights ${w.weights}`);
      const objs= sb.store.list('deployments.apps', ns).items as unknown as { metadata: { name: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } }[];
      const live = objs.filter((d) => d.spec.replicas > 0);
      assert.ok(live.every((d) => d.spec.template.spec.containers[0].image === p.image), `live Deployments run ${p.image}: ${live.map((d) => d.metadata.name)}`);
      assert.ok(!objs.some((d) => d.metadata.name.endsWith('-canary') || d.metadata.name.endsWith('-baseline')), 'canary and baseline removed');
      const manual = (done.stages ?? []).filter((x) => x.mode === 'manual').length;
      assert.equal(done.events.filter((e) => e.reason === 'PromoteRequested').length, manual);
    });
  }

  it('an -errors canary rolls back and the record names check, measured value and threshold', async () => {
    const p = examplePipeline('canary-istio.deploy.yaml');
    const done = await run(svc, p, { image: 'registry.example.com/payments:3.2.0-errors' });
    assert.equal(done.phase, 'rolledBack');
    const f = done.analysis.find((m) => m.verdict === 'fail')!;
    assert.equal(f.metric, 'successRate');
    assert.equal(f.threshold, 99.5);
    assert.ok(f.value !== null && f.value < 99.5 && f.value > 70, `measured ${f.value}`);
    assert.match(done.reason, /analysis failed at stage 1: success rate \d+(\.\d)?% < 99\.5%/);
    // The record in the cluster says the same.
    const cm = sb.store.get('configmaps', 'payments-staging', 'kube-delivery-payments') as unknown as { data: Record<string, string> };
    const doc = JSON.parse(cm.data['record.json']);
    const last = doc.current ?? doc.history[0];
    assert.match(last.reason, /success rate .* < 99\.5%/);
  });

  it('a crash-looping image rolls back a simple rollout to the previous template', async () => {
    const p = examplePipeline('simple.deploy.yaml');
    const done = await run(svc, p, { image: 'registry.example.com/hello:2.1.0-crash' });
    assert.equal(done.phase, 'rolledBack');
    assert.match(done.reason, /crash|CrashLoopBackOff|restart/);
    const dep = sb.store.get('deployments.apps', 'hello-staging', 'hello') as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.equal(dep.spec.template.spec.containers[0].image, done.fromImage);
  });

  it('a failing test Job rolls back with its log excerpt', async () => {
    const p = examplePipeline('simple.deploy.yaml', (t) => t.replace('registry.example.com/smoke:1.0', 'registry.example.com/smoke:1.0-fail'));
    const done = await run(svc, p);
    assert.equal(done.phase, 'rolledBack');
    const t = done.tests.find((x) => x.name === 'smoke')!;
    assert.equal(t.status, 'failed');
    assert.match(t.logExcerpt ?? '', /FAIL/);
  });

  it('abort mid-stage: the first router write after the abort is 100% stable, then the canary goes', async () => {
    const p = examplePipeline('canary-istio.deploy.yaml');
    const router = watchRouter(sb, 'payments-staging');
    let abortAt = -1;
    let canaryDeletedAt = -1;
    const off = sb.store.onChange((e) => {
      if (e.type === 'DELETED' && e.resource.startsWith('deployments') && (e.object as { metadata: { name: string } }).metadata.name === 'payments-canary') canaryDeletedAt = router.writes.length;
    });
    const done = await run(svc, p, {
      abortWhen: (s) => {
        const hit = s.gate?.kind === 'analysis' && s.stage.index === 0;
        if (hit && abortAt < 0) abortAt = router.writes.length;
        return hit;
      },
    });
    off();
    router.stop();
    assert.equal(done.phase, 'aborted');
    const after = router.writes.slice(abortAt);
    assert.deepEqual(after[0].weights.slice(0, 2), [100, 0], `first write after abort: ${JSON.stringify(after[0])}`);
    assert.ok(canaryDeletedAt > abortAt, 'canary scaled down after the router write');
  });

  it('under faults (10% 5xx, cut watches, 409 storms) a run completes or stops in a safe, explained state', async () => {
    sb.admin.setFaults({ errorRate: 0.1, errorCodes: [500, 503], watchCutAfterEvents: 15, conflictRate: 0.3 });
    const p = examplePipeline('canary-gateway.deploy.yaml');
    const done = await run(svc, p);
    sb.admin.clearFaults();
    assert.ok(['succeeded', 'rolledBack', 'failed'].includes(done.phase), done.phase);
    assert.ok(done.reason.length > 10);
    const route = sb.store.get('httproutes.gateway.networking.k8s.io', 'search-staging', 'search') as unknown as { spec: { rules: { backendRefs: { weight: number }[] }[] } };
    const w = route.spec.rules[0].backendRefs.map((b) => b.weight);
    assert.equal(w.reduce((a, b) => a + b, 0), 100);
    if (done.phase !== 'succeeded') assert.equal(w[0], 100, 'a stopped run leaves traffic on stable');
  });

  it('a driver killed mid-stage is replaced and the run resumes without repeating side effects', async () => {
    const p = examplePipeline('canary-replicas.deploy.yaml');
    const target = { pipeline: p, environment: 'staging' };
    let jobCreates = 0;
    const off = sb.store.onChange((e) => {
      if (e.type === 'ADDED' && e.resource.startsWith('jobs')) jobCreates++;
    });
    const a = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'driver-a', leaseDurationMs: 60_000 });
    const atAnalysis = new Promise<void>((resolve) => {
      const w = a.watch(target, (s) => {
        if (s.gate?.kind === 'analysis') {
          w.dispose();
          resolve();
        }
      });
    });
    assert.ok((await a.act(target, 'start', { actor: 'a' })).ok);
    await atAnalysis;
    // Kill: the session stops without releasing the lease (as if the process died).
    const sessions = (a as unknown as { sessions: Map<string, Promise<{ session: { kill(): void } }>> }).sessions;
    for (const e of sessions.values()) (await e).session.kill();
    const b = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'driver-b', leaseDurationMs: 60_000 });
    const done = await new Promise<RolloutSnapshot>((resolve) => {
      const w = b.watch(target, (s) => {
        if (s.gate?.kind === 'manual') void b.act(target, 'promote', { actor: 'b' });
        if (terminal(s)) {
          w.dispose();
          resolve(s);
        }
      });
    });
    await b.drained();
    off();
    assert.equal(done.phase, 'succeeded', done.reason);
    assert.equal(jobCreates, 1, 'the stage test Job was created once');
    assert.equal(done.analysis.filter((m) => m.stage === 0 && m.metric === 'successRate' && m.verdict === 'pass').length, 2, 'stage 1 needed exactly its 2 checks');
    assert.ok(done.events.some((e) => e.reason === 'PromoteRequested'), 'the manual gate was not skipped');
    b.dispose();
    a.dispose();
  });

  it('two drivers started at once: one drives, the other observes and its promote goes through the record', async () => {
    const p = examplePipeline('canary-gateway.deploy.yaml');
    const target = { pipeline: p, environment: 'staging' };
    const b = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'test-b' });
    const [ra, rb] = await Promise.all([svc.act(target, 'start', { actor: 'a' }), b.act(target, 'start', { actor: 'b' })]);
    assert.equal([ra.ok, rb.ok].filter(Boolean).length, 1, `exactly one start wins: ${JSON.stringify([ra.ok || ra.message, rb.ok || rb.message])}`);
    const observer = ra.ok ? b : svc;
    const done = await new Promise<RolloutSnapshot>((resolve) => {
      const w = observer.watch(target, (s) => {
        if (s.gate?.kind === 'manual' && s.actions.promote.allowed) {
          assert.equal(s.driver?.self, false, 'the observer does not drive');
          void observer.act(target, 'promote', { actor: 'observer' });
        }
        if (s.runId && terminal(s)) {
          w.dispose();
          resolve(s);
        }
      });
    });
    assert.equal(done.phase, 'succeeded', done.reason);
    assert.ok(done.events.some((e) => e.reason === 'PromoteRequested' && e.message.includes('observer')));
    await svc.drained();
    await b.drained();
    b.dispose();
  });
  it('a client that disposes its service while driving releases the Lease over real HTTP: the client standing by takes over before it would have expired', async () => {
    const p = examplePipeline('canary-gateway.deploy.yaml');
    const target = { pipeline: p, environment: 'staging' };
    const b = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'test-b' });
    const r = await svc.act(target, 'start', { actor: 'editor' });
    assert.ok(r.ok, !r.ok ? r.message : '');
    let expiresAt = 0;
    const takenOver = await new Promise<RolloutSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no take-over within ${DEADLINE_MS / 1000}s`)), DEADLINE_MS);
      const w = b.watch(target, (s) => {
        if (!expiresAt && s.gate?.kind === 'manual' && s.driver?.holder === 'test-a') {
          expiresAt = Date.parse(s.driver.expiresAt);
          // As the editor did when its window closed: dispose alone, not awaited.
          void svc.dispose();
        }
        if (expiresAt && s.driver?.holder === 'test-b') {
          clearTimeout(timer);
          w.dispose();
          resolve(s);
        }
      });
    });
    assert.ok(sb.clock.now() < expiresAt, 'the Lease was released, not left to expire');
    assert.equal(takenOver.gate?.kind, 'manual', 'the run waits at its gate under its new driver');
    await b.act(target, 'abort', { actor: 'test' });
    await b.drained();
    b.dispose();
  });
});
