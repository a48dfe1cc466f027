// Sandbox API server benchmark, over real loopback HTTP in one process:
// - 5,000 Deployments and 15,000 Pods in 50 namespaces, written straight into the store (no
//   controllers): LIST latency (all namespaces, one namespace) next to the floor of JSON-serialising
//   and parsing the same items, and the process memory.
// - 200 concurrent watches (cluster-wide, on Deployments) receiving 1,000 changes, one change at a time:
//   per-delivery latency from the store commit to the watcher's parsed event, p50/p99, next to the floor
//   measured in the same run: serialise the same object once and parse it 200 times.
//   npx tsx bench/sandbox.bench.ts
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Store, createApiServer, type KubeObject } from '../src/sandbox/api/index';

export type { BenchResult } from './types';
import { runStandalone, type BenchResult } from './types';

const NAMESPACES = 50;
const DEPLOYMENTS = 5000;
const PODS_PER_DEPLOYMENT = 3;
const WATCHERS = Number(process.env.KD_BENCH_WATCHERS ?? 200);
const CHANGES = Number(process.env.KD_BENCH_CHANGES ?? 1000);
const LIST_RUNS = Number(process.env.KD_BENCH_LIST_RUNS ?? 7);

// A full GC before memory readings (the figure is the store's footprint, not garbage awaiting GC).
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;
let peakRss = 0;
let phase = 'seed';
const phasePeak = new Map<string, number>();
const sampleRss = () => {
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  phasePeak.set(phase, Math.max(phasePeak.get(phase) ?? 0, rss));
};

const r2 = (n: number) => Math.round(n * 100) / 100;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function median(xs: number[]): number {
  return percentile(xs, 50);
}

function deployment(ns: string, name: string): KubeObject {
  const labels = { app: name, team: `team-${name.length % 7}`, track: 'stable' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels, annotations: { 'deployment.kubernetes.io/revision': '3', 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ metadata: { name, labels } }) } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, track: 'stable' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `registry.example.com/${name}:1.4.2`,
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'REGION', value: 'eu-west-1' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            },
          ],
        },
      },
    },
    status: {
      observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-7f9c8d" has successfully progressed.`, lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
    },
  };
}

function pod(ns: string, d: KubeObject, i: number): KubeObject {
  const name = `${d.metadata.name}-7f9c8d-${String(i).padStart(5, 'x')}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: d.metadata.name!, 'pod-template-hash': '7f9c8d' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${d.metadata.name}-7f9c8d`, uid: `rs-${d.metadata.uid}`, controller: true, blockOwnerDeletion: true }] },
    spec: { nodeName: 'sandbox-node', containers: [{ name: 'app', image: `registry.example.com/${d.metadata.name}:1.4.2`, ports: [{ containerPort: 8080 }] }] },
    status: {
      phase: 'Running', podIP: `10.244.${i % 250}.${(i * 7) % 250}`, hostIP: '10.0.0.1', startTime: '2026-01-01T00:00:00Z',
      conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'app', ready: true, started: true, restartCount: 0, image: `registry.example.com/${d.metadata.name}:1.4.2`, imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    },
  };
}

const listAgent = new http.Agent({ keepAlive: false });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: listAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function timeList(url: string): Promise<{ ms: number; items: number; bytes: number }> {
  const runs: number[] = [];
  let items = 0;
  let bytes = 0;
  for (let i = 0; i < LIST_RUNS; i++) {
    const t0 = performance.now();
    const r = await get(url);
    const parsed = JSON.parse(r.body) as { items: unknown[] };
    runs.push(performance.now() - t0);
    sampleRss();
    items = parsed.items.length;
    bytes = r.body.length;
  }
  return { ms: median(runs), items, bytes };
}

function timeListFloor(items: KubeObject[]): number {
  const runs: number[] = [];
  for (let i = 0; i < LIST_RUNS; i++) {
    const t0 = performance.now();
    JSON.parse(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items }));
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

interface WatchClient {
  received: number;
  close(): void;
}

/**
 * A lean watch consumer: a raw socket, an HTTP/1.1 GET and a chunked-transfer decoder handing each
 * newline-delimited event to `onLine` (what client-go's and client-node's watch readers do, without
 * a general-purpose stream stack in between).
 */
function openWatch(port: number, path: string, onLine: (line: string) => void): Promise<WatchClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const client: WatchClient = { received: 0, close: () => socket.destroy() };
    let buf: Buffer = Buffer.alloc(0);
    let headersDone = false;
    let partial = '';
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\n\r\n`);
    });
    socket.on('error', (e) => (headersDone ? undefined : reject(e)));
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!headersDone) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        if (!/^HTTP\/1\.1 200/.test(head)) return reject(new Error(`watch failed: ${head.split('\r\n')[0]}`));
        headersDone = true;
        buf = buf.subarray(end + 4);
        resolve(client);
      }
      let pos = 0;
      for (;;) {
        const crlf = buf.indexOf('\r\n', pos);
        if (crlf < 0) break;
        const size = parseInt(buf.toString('latin1', pos, crlf), 16);
        if (buf.length < crlf + 2 + size + 2) break;
        const data = partial + buf.toString('utf8', crlf + 2, crlf + 2 + size);
        pos = crlf + 2 + size + 2;
        let start = 0;
        let nl: number;
        while ((nl = data.indexOf('\n', start)) >= 0) {
          client.received++;
          onLine(data.slice(start, nl));
          start = nl + 1;
        }
        partial = data.slice(start);
      }
      buf = buf.subarray(pos);
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const store = new Store({ historySize: CHANGES + 100 });
  const api = createApiServer({ store, systemNamespaces: [] });
  const base = await api.listen(0);
  const results: BenchResult[] = [];
  try {
    const rssBefore = process.memoryUsage().rss;
    const tSeed = performance.now();
    for (let n = 0; n < NAMESPACES; n++) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` } });
    for (let i = 0; i < DEPLOYMENTS; i++) {
      const ns = `ns-${i % NAMESPACES}`;
      const d = store.create('deployments.apps', deployment(ns, `app-${i}`), { keepStatus: true });
      for (let p = 0; p < PODS_PER_DEPLOYMENT; p++) store.create('pods', pod(ns, d, p), { keepStatus: true });
    }
    const seedMs = performance.now() - tSeed;
    gc();
    const mem = process.memoryUsage();
    sampleRss();

    phase = 'LIST';
    const all = await timeList(`${base}/apis/apps/v1/deployments`);
    const allFloor = timeListFloor(store.list('deployments.apps').items);
    results.push({
      name: `sandbox: LIST deployments, all namespaces (${all.items.toLocaleString('en')})`,
      unit: 'ms',
      value: r2(all.ms),
      reference: { name: 'JSON stringify + parse of the same list', value: r2(allFloor) },
      ratio: r2(all.ms / allFloor),
      notes: `median of ${LIST_RUNS}, HTTP request to parsed body, ${(all.bytes / 1e6).toFixed(1)} MB`,
    });
    const one = await timeList(`${base}/apis/apps/v1/namespaces/ns-7/deployments`);
    const oneFloor = timeListFloor(store.list('deployments.apps', 'ns-7').items);
    results.push({
      name: `sandbox: LIST deployments, one namespace (${one.items})`,
      unit: 'ms',
      value: r2(one.ms),
      reference: { name: 'JSON stringify + parse of the same list', value: r2(oneFloor) },
      ratio: r2(one.ms / oneFloor),
      notes: `median of ${LIST_RUNS}`,
    });
    const pods = await timeList(`${base}/api/v1/pods`);
    const podsFloor = timeListFloor(store.list('pods').items);
    results.push({
      name: `sandbox: LIST pods, all namespaces (${pods.items.toLocaleString('en')})`,
      unit: 'ms',
      value: r2(pods.ms),
      reference: { name: 'JSON stringify + parse of the same list', value: r2(podsFloor) },
      ratio: r2(pods.ms / podsFloor),
      notes: `median of ${LIST_RUNS}, ${(pods.bytes / 1e6).toFixed(1)} MB`,
    });
    const labelled = await timeList(`${base}/api/v1/namespaces/ns-3/pods?labelSelector=app%3Dapp-3`);
    results.push({ name: 'sandbox: LIST pods by label selector in one namespace', unit: 'ms', value: r2(labelled.ms), notes: `${labelled.items} items of 300 in the namespace` });

    // --- watches ---------------------------------------------------------------------------------
    gc();
    phase = 'watch, one change at a time';
    const commitAt = new Map<string, number>();
    const latencies: number[] = [];
    const burstLatencies: number[] = [];
    let sink = latencies;
    const fanout: number[] = [];
    let pending = 0;
    let wake: (() => void) | undefined;
    const clients: WatchClient[] = [];
    const startRv = store.resourceVersion;
    const { port } = new URL(base);
    const opened = await Promise.all(
      Array.from({ length: WATCHERS }, () =>
        openWatch(Number(port), `/apis/apps/v1/deployments?watch=1&resourceVersion=${startRv}`, (line) => {
          const ev = JSON.parse(line) as { object: KubeObject };
          const t = commitAt.get(ev.object.metadata.resourceVersion!);
          if (t !== undefined) sink.push(performance.now() - t);
          if (--pending === 0) wake?.();
        }),
      ),
    );
    clients.push(...opened);
    while (store.watcherCount() < WATCHERS) await new Promise((r) => setImmediate(r));
    const targets = store.list('deployments.apps').items.slice(0, 500).map((d) => ({ ns: d.metadata.namespace!, name: d.metadata.name! }));
    const tWatch = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      const t = targets[i % targets.length];
      pending = WATCHERS;
      let timer: NodeJS.Timeout | undefined;
      const done = new Promise<void>((resolve, reject) => {
        wake = resolve;
        // A lost event would otherwise hang the run: fail loudly instead.
        timer = setTimeout(() => reject(new Error(`change ${i}: ${pending} of ${WATCHERS} watchers did not receive it within 60 s`)), 60_000);
      }).finally(() => clearTimeout(timer));
      const t0 = performance.now();
      // Every change differs from the stored object (a no-op write would emit nothing).
      const o = store.modify('deployments.apps', t.ns, t.name, (draft) => {
        (draft.spec as { replicas: number }).replicas = 3 + (i % 5);
        draft.metadata.annotations = { ...draft.metadata.annotations, 'bench.kube-delivery.dev/change': String(i) };
      });
      commitAt.set(o.metadata.resourceVersion!, t0);
      fanout.push(performance.now() - t0);
      await done;
      if (i % 100 === 0) sampleRss();
    }
    const watchMs = performance.now() - tWatch;
    const delivered = clients.reduce((n, c) => n + c.received, 0);

    // Burst: every change committed in one tick (controllers do this), delivered while it drains.
    gc();
    phase = 'watch burst';
    const burstSampler = setInterval(sampleRss, 50);
    sink = burstLatencies;
    commitAt.clear();
    pending = WATCHERS * CHANGES;
    let burstTimer: NodeJS.Timeout | undefined;
    const burstDone = new Promise<void>((resolve, reject) => {
      wake = resolve;
      burstTimer = setTimeout(() => reject(new Error(`burst: ${pending} deliveries missing after 120 s`)), 120_000);
    }).finally(() => clearTimeout(burstTimer));
    const tBurst = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      const t = targets[i % targets.length];
      const o = store.modify('deployments.apps', t.ns, t.name, (draft) => {
        draft.metadata.annotations = { ...draft.metadata.annotations, 'bench.kube-delivery.dev/change': `burst-${i}` };
      });
      commitAt.set(o.metadata.resourceVersion!, performance.now());
    }
    await burstDone.finally(() => clearInterval(burstSampler));
    const burstMs = performance.now() - tBurst;
    for (const c of clients) c.close();

    // Floor, same run and same objects: serialise once per change, parse once per watcher.
    const floor: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const t = targets[i % targets.length];
      const o = store.get('deployments.apps', t.ns, t.name);
      const t0 = performance.now();
      const line = `{"type":"MODIFIED","object":${JSON.stringify(o)}}\n`;
      for (let w = 0; w < WATCHERS; w++) {
        JSON.parse(line);
        floor.push(performance.now() - t0);
      }
      await new Promise((r) => setImmediate(r));
    }
    // Burst floor: serialise every change once, then each watcher parses all of them.
    const burstFloor: number[] = [];
    const tFloor = performance.now();
    const lines: { line: string; at: number }[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const t = targets[i % targets.length];
      lines.push({ line: `{"type":"MODIFIED","object":${JSON.stringify(store.get('deployments.apps', t.ns, t.name))}}\n`, at: performance.now() });
    }
    for (let w = 0; w < WATCHERS; w++) {
      for (const l of lines) {
        JSON.parse(l.line);
        burstFloor.push(performance.now() - l.at);
      }
    }
    const burstFloorMs = performance.now() - tFloor;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const f50 = percentile(floor, 50);
    const f99 = percentile(floor, 99);
    results.push({
      name: `sandbox: watch event delivery p50 (${WATCHERS} watches x ${CHANGES.toLocaleString('en')} changes)`,
      unit: 'ms',
      value: r2(p50),
      reference: { name: 'serialise once + parse per watcher (same payloads)', value: r2(f50) },
      ratio: r2(p50 / f50),
      goal: '<= 3x floor',
      notes: `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores; ${delivered.toLocaleString('en')} events delivered of ${(WATCHERS * CHANGES).toLocaleString('en')}; ${Math.round(delivered / (watchMs / 1000)).toLocaleString('en')} events/s; server-side fan-out to all ${WATCHERS} sockets p50 ${r2(percentile(fanout, 50))} ms; one change at a time, each waited for at every watcher`,
    });
    results.push({
      name: `sandbox: watch event delivery p99 (${WATCHERS} watches x ${CHANGES.toLocaleString('en')} changes)`,
      unit: 'ms',
      value: r2(p99),
      reference: { name: 'serialise once + parse per watcher (same payloads)', value: r2(f99) },
      ratio: r2(p99 / f99),
      goal: '<= 3x floor',
    });
    results.push({
      name: `sandbox: watch burst, ${CHANGES.toLocaleString('en')} changes in one tick to ${WATCHERS} watches (until all delivered)`,
      unit: 'ms',
      value: r2(burstMs),
      reference: { name: 'serialise each change once + every watcher parses all', value: r2(burstFloorMs) },
      ratio: r2(burstMs / burstFloorMs),
      goal: '<= 3x floor',
      notes: `delivery p50 ${r2(percentile(burstLatencies, 50))} ms vs floor ${r2(percentile(burstFloor, 50))} ms, p99 ${r2(percentile(burstLatencies, 99))} ms vs ${r2(percentile(burstFloor, 99))} ms; ${Math.round((WATCHERS * CHANGES) / (burstMs / 1000)).toLocaleString('en')} events/s`,
    });
    sampleRss();
    results.push({
      name: `sandbox: memory with ${DEPLOYMENTS.toLocaleString('en')} deployments + ${(DEPLOYMENTS * PODS_PER_DEPLOYMENT).toLocaleString('en')} pods (RSS after seeding)`,
      unit: 'MB',
      value: Math.round(mem.rss / 1e6),
      goal: '< 1024 MB',
      notes: `heap used ${Math.round(mem.heapUsed / 1e6)} MB after a full GC; RSS before seeding ${Math.round(rssBefore / 1e6)} MB; seeding took ${Math.round(seedMs)} ms`,
    });
    results.push({
      name: 'sandbox: peak RSS during the benchmark (server + in-process clients)',
      unit: 'MB',
      value: Math.round(peakRss / 1e6),
      goal: '< 1024 MB',
      notes: `by phase: ${[...phasePeak].map(([k, v]) => `${k} ${Math.round(v / 1e6)} MB`).join(', ')}; includes the clients' parsed copies of every LIST body and the watch sockets' buffers, all in this one process`,
    });
  } finally {
    await api.close();
  }
  return results;
}

if (require.main === module) runStandalone(run);
