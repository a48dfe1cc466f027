// Activation cost of the extension in a real VS Code (code-server 4.100.3): module load + activate(),
// in an empty workspace and in one with a deploy file, plus the size of each bundle. Goal: under 50 ms
// in the empty workspace and no cluster library loaded by activation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { launchBrowser, startCodeServer, workbenchUrl } from '../scripts/lib/code-server.mjs';
import type { BenchResult } from './types';

const root = path.resolve(__dirname, '..');
const probe = path.join(root, 'bench', 'activation-probe');
const RUNS = Number(process.env.KD_BENCH_ACTIVATION_RUNS ?? 3);

interface Sample { activationMs: number; activateCallMs: number; moduleLoadMs: number; wasActive: boolean; heavy: string[] }

async function sampleOnce(workspaceTemplate: string | undefined): Promise<Sample> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-bench-act-'));
  if (workspaceTemplate) fs.cpSync(workspaceTemplate, workspace, { recursive: true });
  const server = await startCodeServer({ label: 'bench-activation' });
  const browser = await launchBrowser('bench-activation');
  try {
    const page = await browser.context.newPage();
    let sample: Sample | undefined;
    let done!: (code: number) => void;
    const exited = new Promise<number>((r) => (done = r));
    await page.exposeFunction('codeAutomationExit', (code: number) => done(code));
    page.on('console', (msg) => {
      const parts = msg.args().map((a) => a.toString().replace(/^JSHandle@/, ''));
      if (parts[0]?.startsWith('%c')) parts.splice(0, 2);
      const text = parts.length ? util.format(...parts) : '';
      if (text.startsWith('KD-BENCH ')) sample = JSON.parse(text.slice(9));
      else if (process.env.KD_VERBOSE) console.log(text);
    });
    // Kube Delivery loads from the working tree; the probe runs as the test module of that host.
    const url = workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: root, extensionTestsPath: path.join(probe, 'index.js') });
    await page.goto(url);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('activation probe timed out')), 180_000)))]);
    clearTimeout(timer);
    if (!sample) throw new Error('the probe reported nothing');
    return sample;
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const cases = [
    { name: 'empty workspace', template: path.join(root, 'test', 'fixtures', 'empty-workspace'), goal: '< 50 ms' },
    { name: 'workspace with deploy files (examples/)', template: path.join(root, 'examples'), goal: 'informational' },
  ];
  for (const c of cases) {
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await sampleOnce(c.template));
    const heavy = [...new Set(samples.flatMap((s) => s.heavy))];
    results.push({
      name: `activation (module load + activate), ${c.name}`,
      unit: 'ms (median)',
      value: +median(samples.map((s) => s.activationMs)).toFixed(1),
      goal: c.goal,
      notes: `${RUNS} fresh extension hosts; bundle evaluation ${median(samples.map((s) => s.moduleLoadMs)).toFixed(1)} ms + activate() ${median(samples.map((s) => s.activateCallMs)).toFixed(1)} ms; cluster modules loaded: ${heavy.length ? heavy.join(', ') : 'none'}`,
    });
  }
  const sizesFile = path.join(root, 'dist', 'sizes.json');
  const sizes = JSON.parse(fs.readFileSync(sizesFile, 'utf8')) as { production: boolean; sizes: Record<string, number> };
  for (const [file, bytes] of Object.entries(sizes.sizes)) {
    results.push({ name: `bundle ${file}${sizes.production ? ' (minified)' : ''}`, unit: 'KB', value: +(bytes / 1024).toFixed(1), goal: file === 'webview.js' ? '< 250 KB' : undefined });
  }
  return results;
}

if (require.main === module) {
  run().then((r) => console.table(r), (e) => { console.error(e); process.exit(1); });
}
