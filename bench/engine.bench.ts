// Engine benchmark against the in-process sandbox (real loopback HTTP):
// 1. Abort → 100% stable: from act('abort') on the driving client until the store commits the router
//    write that puts all traffic on stable, and the API requests the driver sent meanwhile; next to the
//    floor of ONE write round trip to the same sandbox (a merge patch of a ConfigMap) measured the same
//    way at the same moment of the same run (the simulation's load is the same). Goal: within 1.5x.
//    The same for blue-green with previewWeight (no router): abort at the manual gate until the active
//    Service's selector no longer includes the new colour's pods.
// 2. API requests per stage must not grow with the stage's duration (watches, no polling): a canary
//    whose stages only pause, run with short and long pauses; requests counted by the client.
//   npx tsx bench/engine.bench.ts
import { performance } from 'node:perf_hooks';
import { startSandbox, type Sandbox } from '../src/sandbox';
import { createClusterRolloutService } from '../src/kube';
import { HttpKubeOps } from '../src/kube/ops';
import type { EngineService } from '../src/engine/service';
import type { RolloutSnapshot } from '../src/engine/snapshot';
import type { Pipeline } from '../src/deployfile/model';
import { examplePipeline } from '../test/unit/engine/harness';
import { runStandalone, type BenchResult } from './types';

const RUNS = Number(process.env.KD_BENCH_ABORT_RUNS ?? 7);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const r2 = (n: number) => Math.round(n * 100) / 100;

function waitFor(svc: EngineService, pipeline: Pipeline, pred: (s: RolloutSnapshot) => boolean, ms = 60_000): Promise<RolloutSnapshot> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    const w = svc.watch({ pipeline, environment: 'staging' }, (s) => {
      if (pred(s)) {
        clearTimeout(t);
        queueMicrotask(() => w.dispose());
        resolve(s);
      }
    });
  });
}

const terminal = (s: RolloutSnapshot) => Boolean(s.runId) && ['succeeded', 'failed', 'rolledBack', 'aborted'].includes(s.phase);

/** The driver's KubeOps (to count its requests). */
async function opsOf(svc: EngineService, pipeline: Pipeline): Promise<HttpKubeOps> {
  const s = await svc.session({ pipeline, environment: 'staging' });
  s.release();
  return (s.entry as unknown as { ops: HttpKubeOps }).ops;
}

/** What an abort benchmark runs: the pipeline, the gate it aborts at, and the commit that restores traffic. */
interface AbortCase {
  pipeline: Pipeline;
  namespace: string;
  image: (i: number) => string;
  atGate: (s: RolloutSnapshot) => boolean;
  /** The store change that puts all traffic back on the live version. */
  restored: (resource: string, object: unknown) => boolean;
}

const istioAbort: AbortCase = {
  pipeline: examplePipeline('canary-istio.deploy.yaml'),
  namespace: 'payments-staging',
  image: (i) => `registry.example.com/payments:3.2.${i + 1}`,
  atGate: (s) => s.gate?.kind === 'analysis',
  restored: (resource, o) => resource.startsWith('virtualservices') && (o as { spec: { http: { route: { weight: number }[] }[] } }).spec.http[0].route[0].weight === 100,
};

const previewAbort: AbortCase = {
  // 1 new pod beside the 3 live ones: 25% of the user Service until the abort narrows it again.
  pipeline: examplePipeline('blue-green.deploy.yaml', (t) => t.replace('autoPromote: true', 'autoPromote: false').replace('scaleDownDelay: 30s', 'scaleDownDelay: 30s\n    previewWeight: 25')),
  namespace: 'profile-staging',
  image: (i) => `registry.example.com/profile:4.0.${i + 1}`,
  atGate: (s) => s.gate?.kind === 'manual',
  restored: (resource, o) => {
    const x = o as { metadata: { name: string }; spec?: { selector?: Record<string, string> } };
    return resource === 'services' && x.metadata.name === 'profile' && x.spec?.selector?.['pod-template-hash'] !== undefined;
  },
};

async function abortBench(sb: Sandbox, c: AbortCase): Promise<{ abortMs: number; floorMs: number; requests: number }> {
  const pipeline = c.pipeline;
  const svc = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'bench' });
  const abortMs: number[] = [];
  const abortReqs: number[] = [];
  const floorMs: number[] = [];
  const target = { pipeline, environment: 'staging' };
  try {
    for (let i = 0; i < RUNS; i++) {
      const started = await svc.act(target, 'start', { image: c.image(i) });
      if (!started.ok) throw new Error(started.message);
      await waitFor(svc, pipeline, c.atGate);
      const ops = await opsOf(svc, pipeline);
      // The floor, under the same load (same moment of the same run): one write round trip, timed from
      // the call to the store's commit like the abort.
      let f1 = 0;
      const floorRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: c.namespace, name: 'bench-floor' };
      if (i === 0) await ops.create({ ...floorRef, metadata: { name: floorRef.name, namespace: floorRef.namespace }, data: { n: '0' } });
      const offF = sb.store.onChange((e) => {
        if (!f1 && e.resource === 'configmaps' && (e.object as { metadata: { name: string } }).metadata.name === 'bench-floor') f1 = performance.now();
      });
      const f0 = performance.now();
      await ops.mergePatch(floorRef, { data: { n: String(i + 1) } });
      offF();
      if (!f1) throw new Error('the floor write was not committed');
      floorMs.push(f1 - f0);
      let t1 = 0;
      const off = sb.store.onChange((e) => {
        if (!t1 && (e.object as { metadata: { namespace?: string } }).metadata.namespace === c.namespace && c.restored(e.resource, e.object)) t1 = performance.now();
      });
      const before = ops.stats().total;
      const t0 = performance.now();
      const act = svc.act(target, 'abort');
      await new Promise<void>((resolve) => {
        const tick = () => (t1 ? resolve() : setImmediate(tick));
        tick();
      });
      abortMs.push(t1 - t0);
      abortReqs.push(ops.stats().total - before);
      off();
      await act;
      await waitFor(svc, pipeline, terminal);
      await svc.drained();
    }
  } finally {
    svc.dispose();
  }
  return { abortMs: median(abortMs), floorMs: median(floorMs), requests: median(abortReqs) };
}

function pausingPipeline(pauseMs: number): Pipeline {
  const p = examplePipeline('canary-gateway.deploy.yaml');
  if (p.strategy.type !== 'canary') throw new Error('expected a canary');
  return {
    ...p,
    tests: p.tests,
    strategy: { ...p.strategy, stages: p.strategy.stages.map((s) => ({ ...s, mode: 'auto' as const, analysis: undefined, tests: [], pauseMs })) },
  };
}

async function requestsPerStage(sb: Sandbox, pauseMs: number): Promise<{ total: number; lease: number; stages: number; byResource: Record<string, number> }> {
  const pipeline = pausingPipeline(pauseMs);
  const svc = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: `bench-${pauseMs}` });
  try {
    const ops = await opsOf(svc, pipeline);
    const before = ops.stats();
    const started = await svc.act({ pipeline, environment: 'staging' }, 'start', { image: `registry.example.com/search:5.1.${pauseMs}` });
    if (!started.ok) throw new Error(started.message);
    const done = await waitFor(svc, pipeline, terminal, 120_000);
    if (done.phase !== 'succeeded') throw new Error(`run ended ${done.phase}: ${done.reason}`);
    await svc.drained();
    const after = ops.stats();
    const byResource: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.byResource ?? {})) {
      const d = v - (before.byResource?.[k] ?? 0);
      if (d) byResource[k] = d;
    }
    const lease = Object.entries(byResource).filter(([k]) => k.includes('leases')).reduce((a, [, v]) => a + v, 0);
    const stages = (pipeline.strategy as { stages: unknown[] }).stages.length;
    return { total: after.total - before.total, lease, stages, byResource };
  } finally {
    svc.dispose();
  }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const sb = await startSandbox({ port: 0, speed: 100, seed: 'examples' });
  try {
    const canary = await abortBench(sb, istioAbort);
    results.push(
      { name: 'abort → 100% stable (router write committed)', unit: 'ms', value: r2(canary.abortMs), reference: { name: 'one write round trip (merge patch, same moment of the run)', value: r2(canary.floorMs) }, ratio: r2(canary.abortMs / canary.floorMs), goal: '≤ 1.5x the floor', notes: `ratio = abort / floor; median of ${RUNS} aborts at the first analysis gate of canary-istio, driver in process` },
      { name: 'abort → 100% stable: API requests sent before the commit', unit: 'req', value: canary.requests, notes: 'the restoring router write goes out at once (abort fast path); the record write follows it' },
    );
    const preview = await abortBench(sb, previewAbort);
    results.push({
      name: 'blue-green preview (previewWeight 25, no router): abort → live colour only',
      unit: 'ms',
      value: r2(preview.abortMs),
      reference: { name: 'one write round trip (same moment of the run)', value: r2(preview.floorMs) },
      ratio: r2(preview.abortMs / preview.floorMs),
      goal: '≤ 1.5x the floor',
      notes: `until the active Service is narrowed back to the live pods (one selector write; ${preview.requests} API request${preview.requests === 1 ? '' : 's'} before the commit); median of ${RUNS} aborts at the manual gate`,
    });
    const short = await requestsPerStage(sb, 60_000);
    const long = await requestsPerStage(sb, 20 * 60_000);
    const per = (x: typeof short) => r2((x.total - x.lease) / x.stages);
    results.push({
      name: 'API requests per stage, 20-minute pauses (excluding lease renewals)',
      unit: 'req',
      value: per(long),
      reference: { name: '1-minute pauses', value: per(short) },
      ratio: r2(per(long) / per(short)),
      // ratio = long / short
      goal: 'no growth with duration (ratio ≈ 1)',
      notes: `lease requests: ${short.lease} (short) vs ${long.lease} (long run), one renewal per 5 s of wall time; totals ${short.total} vs ${long.total}`,
    });
  } finally {
    await sb.close();
  }
  return results;
}

if (require.main === module) runStandalone(run);
