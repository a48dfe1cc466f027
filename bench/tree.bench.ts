// The Environments tree against the sandbox cluster and the real engine, measured in plain Node: the
// tree provider, the snapshot store and the engine are the extension's own modules; `vscode` is a
// minimal stand-in for the few value types the provider builds (TreeItem, ThemeIcon, EventEmitter...),
// so the figures cover our code (watch → snapshot → store batching → tree item), not the workbench's
// drawing. Three measurements:
// 1. cluster change → tree item updated: a Deployment scaled through the API server until the
//    pipeline's tree item and its children show the new desired count (p50/p95; goal p95 < 300 ms);
// 2. 500 pipelines × 3 environments (1,500 targets) in a sandbox running in a child process: first
//    render of the tree (items for every node), then every item with its live state, and this
//    process's memory (what the extension host would hold);
// 3. API requests while idle with everything expanded, counted by a proxy in front of the sandbox
//    (goal: none beyond watch renewals).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { BenchResult } from './types';

const root = path.resolve(__dirname, '..');

// ---- a minimal `vscode` for the provider (value types only) ----
function installVscodeShim(): void {
  class EventEmitter<T> {
    private ls = new Set<(e: T) => void>();
    event = (l: (e: T) => void) => {
      this.ls.add(l);
      return { dispose: () => this.ls.delete(l) };
    };
    fire(e: T) {
      for (const l of [...this.ls]) l(e);
    }
    dispose() {
      this.ls.clear();
    }
  }
  class TreeItem {
    id?: string;
    description?: string;
    tooltip?: unknown;
    iconPath?: unknown;
    contextValue?: string;
    accessibilityInformation?: unknown;
    constructor(
      public label: string,
      public collapsibleState: number,
    ) {}
  }
  class ThemeIcon {
    constructor(
      public id: string,
      public color?: unknown,
    ) {}
  }
  class ThemeColor {
    constructor(public id: string) {}
  }
  class MarkdownString {
    value = '';
    constructor(v?: string) {
      this.value = v ?? '';
    }
    appendMarkdown(s: string) {
      this.value += s;
      return this;
    }
  }
  const shim = {
    EventEmitter,
    TreeItem,
    ThemeIcon,
    ThemeColor,
    MarkdownString,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    commands: { executeCommand: async () => undefined },
    workspace: { asRelativePath: (p: string) => p },
  };
  const M = Module as unknown as { _resolveFilename: (r: string, ...a: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return 'vscode';
    return orig.call(this, request, ...rest);
  };
  require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: shim } as unknown as NodeJS.Module;
}

installVscodeShim();
const { EnvironmentsTree } = require('../src/extension/tree/provider') as typeof import('../src/extension/tree/provider');
const { SnapshotStore } = require('../src/extension/model/snapshotStore') as typeof import('../src/extension/model/snapshotStore');
const { targetKey } = require('../src/extension/model/targets') as typeof import('../src/extension/model/targets');
const { parseDeployFile } = require('../src/deployfile/parse') as typeof import('../src/deployfile/parse');
const { startSandbox } = require('../src/sandbox/index') as typeof import('../src/sandbox/index');
const { createClusterRolloutService } = require('../src/kube/index') as typeof import('../src/kube/index');

type Pipeline = import('../src/deployfile/model').Pipeline;
type Node = import('../src/extension/tree/nodes').Node;
type PipelineNode = import('../src/extension/tree/nodes').PipelineNode;
type EnvNode = import('../src/extension/tree/nodes').EnvNode;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function makeTree(pipelines: Pipeline[], service: import('../src/engine/api').RolloutService, contexts: string[]) {
  const index = {
    ready: async () => undefined,
    pipelines: () => pipelines,
    onDidChange: () => ({ dispose() {} }),
  };
  const store = new SnapshotStore(async () => service, { debounceMs: 50 });
  const tree = new EnvironmentsTree(index as never, store, async () => ({ access: {}, contexts: contexts.map((name) => ({ name, origin: 'bench' })), source: { paths: [], source: 'default' }, problems: [] }));
  return { tree, store };
}

/** Renders every node the way the view does on first show: roots, each environment's children, each item. */
async function renderAll(tree: InstanceType<typeof EnvironmentsTree>): Promise<PipelineNode[]> {
  const out: PipelineNode[] = [];
  const roots = (await tree.getChildren()) as EnvNode[];
  for (const env of roots) {
    tree.getTreeItem(env);
    const kids = (await tree.getChildren(env)) as PipelineNode[];
    for (const k of kids) {
      tree.getTreeItem(k);
      out.push(k);
    }
  }
  return out;
}

async function latency(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-bench-tree-'));
  fs.cpSync(path.join(root, 'examples'), dir, { recursive: true });
  const sb = await startSandbox({ port: 0, seed: dir, contextName: 'sandbox', trafficRps: 0 });
  const file = path.join(dir, 'canary-replicas.deploy.yaml');
  const pipelines = parseDeployFile(fs.readFileSync(file, 'utf8'), file).pipelines;
  const service = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, identity: 'bench', canDrive: false });
  const { tree, store } = makeTree(pipelines, service, ['sandbox']);
  const changes: Node[][] = [];
  tree.onDidChangeTreeData((e) => changes.push(Array.isArray(e) ? e : e ? [e] : []));
  const nodes = await renderAll(tree);
  const node = nodes.find((n) => n.target.environment === 'staging')!;
  const key = targetKey(node.target);
  await until('first snapshot', () => !!store.get(key)?.versions.length, 30_000);
  const samples: number[] = [];
  const patch = (replicas: number) =>
    fetch(`${sb.url}/apis/apps/v1/namespaces/checkout-staging/deployments/checkout`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas } }),
    });
  for (let i = 0; i < 60; i++) {
    const replicas = 10 + (i % 2 === 0 ? 1 : 0);
    const seen = changes.length;
    const t0 = performance.now();
    const res = await patch(replicas);
    if (!res.ok) throw new Error(`PATCH: HTTP ${res.status}`);
    // Updated = the tree announced the node AND its item and children, rendered now, show the change.
    await until(`tree shows ${replicas} desired`, () => changes.slice(seen).some((c) => c.includes(node)) && store.get(key)?.versions.find((v) => v.role === 'stable')?.desired === replicas, 10_000);
    tree.getTreeItem(node);
    const kids = (await tree.getChildren(node)) as Node[];
    const stable = kids.find((k) => k.kind === 'detail' && k.desc.id === 'version/stable');
    if (!stable || stable.kind !== 'detail' || !stable.desc.description?.includes(`/${replicas} ready`)) throw new Error(`stable version row: ${JSON.stringify(stable && stable.kind === 'detail' ? stable.desc : stable)}`);
    samples.push(performance.now() - t0);
  }
  tree.dispose();
  store.dispose();
  service.dispose();
  await sb.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const s = samples.slice(5).sort((a, b) => a - b); // the first few warm the JIT and the watch paths
  return [
    { name: 'cluster change → tree item updated, p50', unit: 'ms', value: round(pct(s, 50)), notes: `${s.length} Deployment scale changes through the API server; includes the store's 50 ms batching window` },
    { name: 'cluster change → tree item updated, p95', unit: 'ms', value: round(pct(s, 95)), goal: 'p95 < 300 ms' },
  ];
}

// The counting proxy runs in a child process of its own: in this process its two sockets per watch
// (client side and upstream) came on top of the engine's own, and with 7,500 watches (1,500 targets × 5)
// that passed the 20,000 open files allowed to one process. The EMFILE and ECONNRESET failures it caused
// were the relists counted "while idle" (the proxy measured itself). Plain JS, so it needs no loader.
const PROXY_SOURCE = `
const http = require('node:http');
const t = new URL(process.argv[1]);
const counts = { watch: 0, other: 0, errors: 0, errorCodes: {}, log: [] };
// One upstream socket per open watch, reused after a watch ends (keep-alive), never limited in number.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const server = http.createServer((req, res) => {
  if (/[?&]watch=(true|1)/.test(req.url || '')) counts.watch++;
  else {
    counts.other++;
    if (counts.log.length < 200) counts.log.push(req.method + ' ' + req.url);
  }
  const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => {
    res.writeHead(ur.statusCode || 502, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (e) => { counts.errors++; const c = e.code || e.message; counts.errorCodes[c] = (counts.errorCodes[c] || 0) + 1; res.destroy(); });
  res.on('close', () => up.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60000;
server.on('error', (e) => { console.error('proxy: ' + e.message); process.exit(1); });
process.on('message', (m) => {
  if (m === 'counts') { process.send({ watch: counts.watch, other: counts.other, errors: counts.errors, errorCodes: counts.errorCodes, log: counts.log }); counts.log = []; }
});
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => console.log('proxy listening on http://127.0.0.1:' + server.address().port));
`;

interface ProxyCounts {
  watch: number;
  other: number;
  /** Upstream failures inside the proxy (each one shows up as a failed request in the engine). */
  errors: number;
  errorCodes: Record<string, number>;
  /** Non-watch request lines since the previous read (at most 200). */
  log: string[];
}

/** A counting HTTP proxy in front of the sandbox, in a child process: every request the engine sends is seen there. */
async function countingProxy(target: string): Promise<{ url: string; pid: number; counts(): Promise<ProxyCounts>; close(): Promise<void> }> {
  const proc = spawn(process.execPath, ['-e', PROXY_SOURCE, target], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = readline.createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the counting proxy did not start within 30 s')), 30_000);
    lines.on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the counting proxy exited with ${code}`)));
  });
  return {
    url,
    pid: proc.pid!,
    counts: () =>
      new Promise<ProxyCounts>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the counting proxy did not answer within 30 s')), 30_000);
        proc.once('message', (m) => {
          clearTimeout(timer);
          resolve(m as ProxyCounts);
        });
        proc.send('counts');
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return undefined;
  }
}

/** Where the CPU time of a phase went: this process (engine + tree), the sandbox, the proxy. */
function cpuSplit(pids: { engine: number; sandbox: number; proxy: number }): () => string {
  const at = (pid: number) => cpuSeconds(pid) ?? NaN;
  const start = { engine: at(pids.engine), sandbox: at(pids.sandbox), proxy: at(pids.proxy) };
  return () => {
    const d = (k: keyof typeof start) => round(at(pids[k]) - start[k]);
    return Number.isNaN(start.engine) ? '' : `; CPU s: engine+tree ${d('engine')}, sandbox ${d('sandbox')}, proxy ${d('proxy')}`;
  };
}

/** A summary like "GET /api/v1/namespaces/(ns)/configmaps ×120" of request lines. */
function summarizePaths(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/\/namespaces\/[^/]+/, '/namespaces/*').replace(/\?.*$/, '');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} ×${n}`);
}

function generateDeployFile(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app${String(i).padStart(3, '0')}`;
    docs.push(`apiVersion: kube-delivery.dev/v1alpha1
kind: Pipeline
metadata: { name: ${name} }
spec:
  app: { deployment: ${name}, container: web, service: ${name}, port: 80 }
  image: registry.example.com/${name}:1.0.0
  environments:
    - { name: dev, context: sandbox, namespace: ${name}-dev }
    - { name: staging, context: sandbox, namespace: ${name}-staging, after: dev }
    - { name: production, context: sandbox, namespace: ${name}-prod, after: staging, protected: true }
  strategy: { type: simple }
`);
  }
  return docs.join('---\n');
}

async function startChildSandbox(seedDir: string, kubeconfig: string): Promise<{ proc: ChildProcess; url: string }> {
  const cli = path.join(root, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const proc = spawn(process.execPath, [cli, 'sandbox', '--port', '0', '--kubeconfig', kubeconfig, '--seed', seedDir, '--rps', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = readline.createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sandbox did not start within 120 s')), 120_000);
    lines.on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)));
  });
  return { proc, url };
}

async function large(): Promise<BenchResult[]> {
  const N = Number(process.env.KD_TREE_BENCH_N) || 500;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-bench-tree-large-'));
  const file = path.join(dir, 'many.deploy.yaml');
  fs.writeFileSync(file, generateDeployFile(N));
  const pipelines = parseDeployFile(fs.readFileSync(file, 'utf8'), file).pipelines;
  if (pipelines.length !== N) throw new Error(`parsed ${pipelines.length} pipelines, expected ${N}`);
  const kubeconfigFile = path.join(dir, 'kubeconfig');
  const child = await startChildSandbox(dir, kubeconfigFile);
  const proxy = await countingProxy(child.url);
  const kubeconfig = fs.readFileSync(kubeconfigFile, 'utf8').replace(child.url, proxy.url);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const service = createClusterRolloutService({ access: { kubeconfigYaml: kubeconfig }, identity: 'bench', canDrive: false });
  const { tree, store } = makeTree(pipelines, service, ['sandbox']);
  const cpu = cpuSplit({ engine: process.pid, sandbox: child.proc.pid!, proxy: proxy.pid });
  const t0 = performance.now();
  const nodes = await renderAll(tree);
  const firstRender = performance.now() - t0;
  const keys = nodes.map((n) => targetKey(n.target));
  await until('every pipeline with its live state', () => keys.every((k) => store.get(k) !== undefined), 300_000);
  for (const n of nodes) tree.getTreeItem(n);
  const live = performance.now() - t0;
  const liveCpu = cpu();
  // Let the last watch starts settle, then count what an idle, fully expanded tree costs.
  await new Promise((r) => setTimeout(r, 2000));
  gc?.();
  const after = process.memoryUsage();
  const idleMs = 20_000;
  const c0 = await proxy.counts();
  await new Promise((r) => setTimeout(r, idleMs));
  const c1 = await proxy.counts();
  const idleWatch = c1.watch - c0.watch;
  const idleOther = c1.other - c0.other;
  const idleErrors = c1.errors - c0.errors;
  const idleLog = summarizePaths(c1.log);
  const watchedTotal = c1.watch;
  tree.dispose();
  store.dispose();
  service.dispose();
  await proxy.close();
  child.proc.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  const mb = (b: number) => round(b / 1024 / 1024);
  return [
    { name: `first render, ${N} pipelines × 3 environments (${nodes.length} items)`, unit: 'ms', value: round(firstRender), goal: '< 1000 ms', notes: 'roots, every environment expanded, every pipeline item built (state loading)' },
    { name: `every item with its live state, ${nodes.length} targets`, unit: 'ms', value: round(live), notes: `engine watches started for every target (${watchedTotal} watch and ${c1.other} other requests in the whole run, ${c1.errors} failed in the proxy${liveCpu})` },
    { name: `memory held by engine + tree for ${nodes.length} targets (heap)`, unit: 'MB', value: mb(after.heapUsed - before.heapUsed), notes: `RSS +${mb(after.rss - before.rss)} MB; sandbox in a child process, not counted` },
    { name: `API requests while idle (${idleMs / 1000} s, everything expanded), non-watch`, unit: 'requests', value: idleOther, goal: '0', notes: idleLog.length ? `e.g. ${idleLog.join('; ')}` : 'none' },
    { name: `watch (re)starts while idle (${idleMs / 1000} s)`, unit: 'requests', value: idleWatch, notes: `watch renewals: the only traffic an idle tree should cause${idleErrors ? `; ${idleErrors} upstream errors in the proxy: ${JSON.stringify(c1.errorCodes)}` : ''}` },
  ];
}

export async function run(): Promise<BenchResult[]> {
  // KD_TREE_BENCH_N=100 runs the large case with fewer pipelines (quick checks while developing).
  return [...(await latency()), ...(await large())];
}

if (require.main === module) {
  run().then(
    (r) => {
      const w = Math.max(...r.map((x) => x.name.length));
      for (const x of r) console.log(`${x.name.padEnd(w)}  ${String(x.value).padStart(8)} ${x.unit.padEnd(8)} ${x.goal ? `goal ${x.goal}` : ''}${x.notes ? `  (${x.notes})` : ''}`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
