// Dashboard benchmark, in real headless Chromium (Debian's /usr/bin/chromium through playwright-core):
// the production webview bundle is loaded in a page with a fake `acquireVsCodeApi` and the same CSP as
// the real panel. For timelines of growing length (up to a six-hour run of 20,000 points) it measures
// engine snapshot → webview DOM updated: the host's delta computation and serialisation (Node) plus the
// page's parse, view update and chart draw (Chromium), p50/p95 over many updates. Also the first full
// render and the minified bundle size.
//   npx tsx bench/dashboard.bench.ts
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RolloutSnapshot } from '../src/engine/snapshot';
import { computeDelta } from '../src/webview/delta';
import type { HostMessage } from '../src/webview/protocol';
import { canarySnapshot, measurement, nextSnapshot, T0, timeline } from '../test/unit/dashboard/fixtures';

export type { BenchResult } from './types';
import type { BenchResult } from './types';

const root = path.resolve(__dirname, '..');
const SIX_HOURS_MS = 6 * 3600 * 1000;
const SIZES = [1000, 5000, 10000, 20000];
const UPDATES = Number(process.env.KD_BENCH_UPDATES ?? 150);
const WARMUP = 20;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

async function buildBundle(outdir: string): Promise<{ js: number; css: number }> {
  // Same options as scripts/build.mjs's webview bundle with --production.
  const r = await esbuild.build({
    entryPoints: { webview: path.join(root, 'src/webview/main.ts') },
    outdir,
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  let js = 0;
  let css = 0;
  for (const [out, meta] of Object.entries(r.metafile.outputs)) {
    if (out.endsWith('.js')) js = meta.bytes;
    if (out.endsWith('.css')) css = meta.bytes;
  }
  return { js, css };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** A run of `points` timeline points spread over six hours, in its second stage. */
function longRun(points: number): RolloutSnapshot {
  const base = canarySnapshot({ points: 0, stageIndex: 1 });
  const tl = timeline(points, 1, T0, SIX_HOURS_MS / points);
  return { ...base, timeline: tl, updatedAt: tl[tl.length - 1].at };
}

/** The engine's next snapshot: a new point, and now and then a check, an event or a gate change. */
function step(s: RolloutSnapshot, i: number): RolloutSnapshot {
  let extra: Partial<RolloutSnapshot> = {};
  if (i % 10 === 0) extra = { analysis: [...s.analysis, measurement(1, s.analysis.length + 1, 'successRate', 99 + (i % 7) / 10, s.updatedAt, 99.8)] };
  if (i % 15 === 0) extra = { ...extra, events: [...s.events, { at: s.updatedAt, type: 'Normal', reason: 'AnalysisCheck', message: `check ${i} passed` }] };
  if (i % 25 === 0) extra = { ...extra, reason: `stage 2/3 · canary 50% · analysis ${i % 3} of 3`, gate: { kind: 'analysis', since: s.updatedAt, message: `analysis ${i % 3} of 3 checks passed` } };
  const n = nextSnapshot(s, extra);
  // One step is one second after the last point.
  return n;
}

const PAGE = (nonce: string) => `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src http://kd.test data:; font-src http://kd.test; style-src http://kd.test; script-src 'nonce-${nonce}'">
<link rel="stylesheet" href="http://kd.test/webview.css"></head>
<body class="vscode-dark" style="width:1200px">
<div id="app" data-key='{"pipeline":"checkout","environment":"staging"}'></div>
<script nonce="${nonce}" src="http://kd.test/fake-api.js"></script>
<script nonce="${nonce}" src="http://kd.test/webview.js"></script>
</body></html>`;

// The fake VS Code API: records posts and state; counts CSP violations.
const FAKE_API = `window.__posted = []; window.__state = null; window.__csp = 0;
document.addEventListener('securitypolicyviolation', () => window.__csp++);
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });`;

export async function run(): Promise<BenchResult[]> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-dash-bench-'));
  const sizes = await buildBundle(out);
  const results: BenchResult[] = [
    { name: 'dashboard: webview bundle (minified JS)', unit: 'KB', value: r1(sizes.js / 1024), goal: '< 250 KB', notes: `plus ${r1(sizes.css / 1024)} KB CSS; uPlot included` },
  ];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.KD_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const nonce = 'benchNonce0123';
    await page.route('http://kd.test/**', (route) => {
      const name = new URL(route.request().url()).pathname.slice(1);
      if (name === 'index.html') return route.fulfill({ contentType: 'text/html', body: PAGE(nonce) });
      if (name === 'fake-api.js') return route.fulfill({ contentType: 'text/javascript', body: FAKE_API });
      const file = path.join(out, name);
      if (fs.existsSync(file)) return route.fulfill({ contentType: name.endsWith('.css') ? 'text/css' : 'text/javascript', body: fs.readFileSync(file) });
      return route.fulfill({ status: 404, body: '' });
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('http://kd.test/index.html');
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0, undefined, { timeout: 10_000 });

    const p95BySize: { size: number; p95: number; p50: number }[] = [];
    for (const size of SIZES) {
      let snap = longRun(size);
      const full: HostMessage = { type: 'snapshot', key: { pipeline: 'checkout', environment: 'staging' }, snapshot: snap, protectedEnv: false };
      const fullJson = JSON.stringify(full);
      const fullMs = await page.evaluate(async (json) => {
        const t0 = performance.now();
        window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(json) }));
        await Promise.resolve();
        await Promise.resolve();
        return performance.now() - t0;
      }, fullJson);
      const totals: number[] = [];
      const hostTimes: number[] = [];
      const pageTimes: number[] = [];
      const frameTimes: number[] = [];
      // The first updates of each size warm the JIT and uPlot's caches: run them, do not count them.
      for (let i = 1; i <= WARMUP + UPDATES; i++) {
        const next = step(snap, i);
        // Host side: delta against what the page holds + the serialisation postMessage performs.
        const h0 = performance.now();
        const msg: HostMessage = { type: 'delta', key: full.key, delta: computeDelta(snap, next) };
        const json = JSON.stringify(msg);
        const hostMs = performance.now() - h0;
        snap = next;
        const expect = snap.timeline.length;
        const r = await page.evaluate(
          async ({ json, expect }) => {
            const t0 = performance.now();
            window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(json) }));
            // uPlot commits its redraw in a microtask queued during the update: let it run.
            await Promise.resolve();
            await Promise.resolve();
            const t1 = performance.now();
            const points = document.querySelector('[data-testid=traffic-chart]')?.getAttribute('data-points');
            await new Promise((res) => requestAnimationFrame(() => res(null)));
            return { pageMs: t1 - t0, frameMs: performance.now() - t0, ok: points === String(expect) };
          },
          { json, expect },
        );
        if (!r.ok) throw new Error(`the DOM did not show ${expect} points after update ${i} at size ${size}`);
        if (i <= WARMUP) continue;
        hostTimes.push(hostMs);
        pageTimes.push(r.pageMs);
        frameTimes.push(r.frameMs);
        totals.push(hostMs + r.pageMs);
        if (process.env.KD_BENCH_DEBUG && r.pageMs > 10) console.log(`size ${size} update ${i}: page ${r1(r.pageMs)} ms`);
      }
      const p95 = percentile(totals, 95);
      p95BySize.push({ size, p95, p50: percentile(totals, 50) });
      const label = size === 20000 ? 'six-hour timeline, 20,000 points' : `${size.toLocaleString('en')} points`;
      results.push({
        name: `dashboard: snapshot → DOM updated p95 (${label})`,
        unit: 'ms',
        value: r1(p95),
        goal: size === 20000 ? '< 100 ms' : undefined,
        notes: `p50 ${r1(percentile(totals, 50))} ms; host delta+serialise p95 ${r1(percentile(hostTimes, 95))} ms; page update+draw p95 ${r1(percentile(pageTimes, 95))} ms; to next frame p95 ${r1(percentile(frameTimes, 95))} ms; first full render ${r1(fullMs)} ms; ${UPDATES} updates after ${WARMUP} warm-up`,
      });
    }
    const small = p95BySize[0];
    const big = p95BySize[p95BySize.length - 1];
    results.push({
      name: 'dashboard: update cost growth, 20,000 vs 1,000 points (p95 ratio)',
      unit: 'x',
      value: Math.round((big.p95 / small.p95) * 100) / 100,
      reference: { name: `p95 at ${small.size} points (ms)`, value: r1(small.p95) },
      ratio: Math.round((big.p95 / small.p95) * 100) / 100,
      goal: 'flat (close to 1x)',
      notes: `p50 ratio ${Math.round((big.p50 / small.p50) * 100) / 100}x; p95 at 20,000 points ${r1(big.p95)} ms; the machine's load shows up in p95 (2 shared cores)`,
    });
    const csp = await page.evaluate(() => (window as unknown as { __csp: number }).__csp);
    if (csp || errors.length) {
      results.push({ name: 'dashboard: page errors / CSP violations', unit: 'count', value: errors.length + csp, notes: errors.slice(0, 3).join(' | ') });
    }
  } finally {
    await browser.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  run()
    .then((rows) => {
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${String(r.value).padStart(8)} ${r.unit.padEnd(3)} ${r.goal ? `goal ${r.goal}` : ''}${r.notes ? `  (${r.notes})` : ''}`);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}

