// Sandbox simulation benchmark (src/sandbox/sim): how fast the simulated controllers converge a large
// cluster on a manual clock, what a second of simulated traffic costs, and PromQL query latency over
// the resulting metrics. Wall-clock figures on this machine (2 shared cores).
//   npx tsx bench/sandbox-sim.bench.ts
import { Store, type KubeObject } from '../src/sandbox/api/store';
import { ManualClock } from '../src/sandbox/sim/clock';
import { Simulation } from '../src/sandbox/sim/sim';
import type { BenchResult } from './types';

const DEPLOYMENTS = Number(process.env.KD_BENCH_SIM_DEPLOYMENTS ?? 1000);
const NAMESPACES = 20;

function deployment(ns: string, name: string, image: string): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } } },
  };
}

function allDone(store: Store): boolean {
  for (const d of store.list('deployments.apps').items) {
    const s = (d.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
    if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 0) || s.updatedReplicas !== 3 || s.availableReplicas !== 3 || s.replicas !== 3) return false;
  }
  return true;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const clock = new ManualClock();
  let n = 0;
  const store = new Store({ now: () => clock.now(), uid: () => `u${++n}`, historySize: 20_000 });
  const sim = new Simulation({ store, clock, trafficRps: 0, podEvents: false, prometheus: false });
  sim.start();
  for (let i = 0; i < NAMESPACES; i++) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } });

  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let t0 = performance.now();
  let c0 = cpu();
  for (let i = 0; i < DEPLOYMENTS; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    store.create('deployments.apps', deployment(ns, `app-${i}`, 'registry.example.com/app:1.0'));
    store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: `app-${i}`, namespace: ns }, spec: { selector: { app: `app-${i}` }, ports: [{ port: 80 }] } });
  }
  if (!(await clock.advanceUntil(() => allDone(store), 600_000, 1_000))) throw new Error('cluster did not converge');
  const createMs = performance.now() - t0;
  const pods = store.count('pods');
  results.push({ name: `create ${DEPLOYMENTS} Deployments → ${pods} Ready pods (controllers + kubelet + endpoints)`, unit: 'ms', value: Math.round(createMs), notes: `${(createMs / pods).toFixed(2)} ms per pod, ${sim.controllers.syncs} syncs, ${Math.round(cpu() - c0)} ms CPU` });

  t0 = performance.now();
  c0 = cpu();
  for (const d of store.list('deployments.apps').items) {
    store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (x) => {
      (x.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image = 'registry.example.com/app:2.0';
    });
  }
  if (!(await clock.advanceUntil(() => allDone(store) && store.count('pods') === pods, 600_000, 1_000))) throw new Error('rollout did not converge');
  const rollMs = performance.now() - t0;
  results.push({ name: `rolling update of all ${DEPLOYMENTS} Deployments`, unit: 'ms', value: Math.round(rollMs), notes: `${(rollMs / DEPLOYMENTS).toFixed(2)} ms per Deployment, ${Math.round(cpu() - c0)} ms CPU` });

  // Traffic: every Service is an entry point at 20 rps.
  sim.setRps(20);
  const tickTimes: number[] = [];
  for (let i = 0; i < 60; i++) {
    const s = performance.now();
    sim.traffic.tick(clock.now(), 1000);
    tickTimes.push(performance.now() - s);
    if (i % 5 === 4) sim.metrics.scrape(clock.now());
    await clock.advance(1000);
  }
  sim.setRps(0);
  results.push({ name: `one simulated second of traffic (${DEPLOYMENTS} services × 20 rps, ${DEPLOYMENTS * 20} requests)`, unit: 'ms', value: Number(percentile(tickTimes, 0.5).toFixed(1)), notes: `first tick (routing and series set-up) ${tickTimes[0].toFixed(0)} ms; later p99 ${percentile(tickTimes.slice(1), 0.99).toFixed(1)} ms`, goal: 'well under 1000 ms, so the sandbox keeps up at speed 1' });

  const q = 'sum by (version) (rate(http_requests_total{namespace="ns-3",code!~"5.."}[1m])) / sum by (version) (rate(http_requests_total{namespace="ns-3"}[1m]))';
  const qTimes: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    const r = sim.query(q);
    qTimes.push(performance.now() - s);
    if (r.resultType !== 'vector' || r.result.length === 0) throw new Error('empty success-rate result');
  }
  results.push({ name: `PromQL success-rate query over ${sim.tsdb.seriesCount} series`, unit: 'ms', value: Number(percentile(qTimes, 0.5).toFixed(2)), notes: `p99 ${percentile(qTimes, 0.99).toFixed(2)} ms` });
  const p99q = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="ns-3"}[1m])))';
  const hTimes: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    sim.query(p99q);
    hTimes.push(performance.now() - s);
  }
  results.push({ name: 'PromQL histogram_quantile p99 query (one namespace)', unit: 'ms', value: Number(percentile(hTimes, 0.5).toFixed(2)), notes: `p99 ${percentile(hTimes, 0.99).toFixed(2)} ms` });

  (globalThis as { gc?: () => void }).gc?.();
  results.push({ name: 'heap used after all of the above', unit: 'MB', value: Math.round(process.memoryUsage().heapUsed / 1e6), goal: '< 1024 MB' });
  sim.stop();
  return results;
}

if (require.main === module) {
  run().then(
    (r) => console.table(r.map(({ name, value, unit, notes }) => ({ name, value, unit, notes }))),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
