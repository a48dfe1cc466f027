// Deploy-file validation benchmark, side by side in one run with yaml-language-server 1.x driven
// through its getLanguageService API with the same JSON Schema (schemas/pipeline.schema.json):
//   1. a typical 80-line deploy file, full revalidation (no cache on either side);
//   2. a 5,000-line file of many pipelines after an edit inside one document (our per-document cache
//      vs yaml-language-server revalidating the same edited text);
//   3. time to first diagnostics in a fresh process: module load + schema ready + first validation
//      (both sides bundled with esbuild the way an extension ships; child processes alternate).
// Both sides get a new document version per iteration, so nothing is served from a stale cache.
//   npx tsx bench/deployfile.bench.ts
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getLanguageService } from 'yaml-language-server/lib/umd/languageservice/yamlLanguageService';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DeployFileValidator, parseDeployFile } from '../src/deployfile/parse';
import { bigDeployFile } from '../test/unit/deployfile/bigfile';

export type { BenchResult } from './types';
import type { BenchResult } from './types';

const root = path.resolve(__dirname, '..');
const schemaFile = path.join(root, 'schemas', 'pipeline.schema.json');
const typicalFile = path.join(root, 'bench', 'fixtures', 'deployfile', 'typical.deploy.yaml');
const YLS = `yaml-language-server ${require('yaml-language-server/package.json').version}`;
const quick = Boolean(process.env.KD_BENCH_QUICK);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function createYls() {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
  const ls = getLanguageService({
    schemaRequestService: async (uri: string) => Promise.reject(new Error(`offline: ${uri}`)),
    workspaceContext: { resolveRelativePath: (p: string, r: string) => new URL(p, r).toString() },
    clientCapabilities: {},
  } as never);
  ls.configure({ validate: true, schemas: [{ uri: 'https://kube-delivery.dev/schemas/pipeline.schema.json', fileMatch: ['*.deploy.yaml'], schema }] } as never);
  let version = 1;
  return (uri: string, text: string) => ls.doValidation(TextDocument.create(uri, 'yaml', version++, text), false);
}

async function timeIt(n: number, f: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

function pair(name: string, unit: string, ours: number, ref: number, goal: string, notes?: string): BenchResult {
  return { name, unit, value: round(ours), reference: { name: YLS, value: round(ref) }, ratio: round(ref / ours, 1), goal, notes };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Interleaves warm-up and measurement of both sides so machine noise hits both alike. */
async function typical(yls: ReturnType<typeof createYls>): Promise<BenchResult[]> {
  const text = fs.readFileSync(typicalFile, 'utf8');
  const uri = 'file:///bench/typical.deploy.yaml';
  const oursN = quick ? 300 : 3000;
  const ylsN = quick ? 30 : 300;
  await timeIt(oursN / 3, () => parseDeployFile(text, typicalFile));
  await timeIt(ylsN / 3, () => yls(uri, text));
  // Measured in alternating blocks (10 of each side) so a burst of load from other processes
  // lands on both sides rather than on whichever happened to run then.
  const ours: number[] = [];
  const ref: number[] = [];
  const blocks = 10;
  for (let b = 0; b < blocks; b++) {
    ours.push(...(await timeIt(oursN / blocks, () => parseDeployFile(text, typicalFile))));
    ref.push(...(await timeIt(ylsN / blocks, () => yls(uri, text))));
  }
  const lines = text.split('\n').length - 1;
  return [
    pair(`deployfile: ${lines}-line file, full revalidation, median`, 'ms', percentile(ours, 50), percentile(ref, 50), '< 1 ms and >= 1.5x faster', `${oursN} vs ${ylsN} runs; ours includes YAML parse, schema, KD1xx rules and typed model`),
    pair(`deployfile: ${lines}-line file, full revalidation, p90`, 'ms', percentile(ours, 90), percentile(ref, 90), 'p90 reported with the median'),
  ];
}

async function incremental(yls: ReturnType<typeof createYls>): Promise<BenchResult[]> {
  const big = bigDeployFile(5000);
  const lines = big.split('\n');
  const checksLines = lines.map((l, i) => (/checks: \d/.test(l) ? i : -1)).filter((i) => i >= 0);
  // Edit i changes the `checks` value of document (i * 7) mod N: a different document each time.
  const edited = (i: number) => {
    const copy = [...lines];
    const at = checksLines[(i * 7) % checksLines.length];
    copy[at] = copy[at].replace(/checks: \d/, `checks: ${(i % 9) + 1}`);
    return copy.join('\n');
  };
  const validator = new DeployFileValidator('/bench/big.deploy.yaml');
  validator.validate(big);
  const oursN = quick ? 100 : 600;
  const ylsN = quick ? 5 : 25;
  await timeIt(oursN / 5, (i) => validator.validate(edited(i)));
  const texts = Array.from({ length: oursN }, (_, i) => edited(i + 1000));
  const ours = await timeIt(oursN, (i) => validator.validate(texts[i]));
  const reparsed = validator.lastParsedChunks;
  const uri = 'file:///bench/big.deploy.yaml';
  await yls(uri, big);
  const ylsTexts = Array.from({ length: ylsN }, (_, i) => edited(i + 2000));
  const ref = await timeIt(ylsN, (i) => yls(uri, ylsTexts[i]));
  const notes = `${lines.length} lines, ${checksLines.length} pipelines; ours re-parsed ${reparsed} document per edit; ${oursN} vs ${ylsN} edits`;
  return [
    pair('deployfile: 5,000-line file, edit in one document, median', 'ms', percentile(ours, 50), percentile(ref, 50), '< 3 ms and >= 30x faster', notes),
    pair('deployfile: 5,000-line file, edit in one document, p90', 'ms', percentile(ours, 90), percentile(ref, 90), 'p90 reported with the median'),
  ];
}

async function firstDiagnostics(): Promise<BenchResult[]> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-bench-deployfile-'));
  try {
    // Bundled and minified like the shipped extension/CLI (and like the YAML extension ships its server).
    await esbuild.build({
      entryPoints: {
        ours: path.join(root, 'bench/fixtures/deployfile/first-ours.ts'),
        yls: path.join(root, 'bench/fixtures/deployfile/first-yls.ts'),
      },
      outdir: out,
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // Prefer ES module builds: UMD wrappers (jsonc-parser, yaml-language-server/lib/umd) hide their
      // requires from a bundler.
      mainFields: ['module', 'main'],
      logLevel: 'error',
      absWorkingDir: root,
    });
    const runs = quick ? 3 : 9;
    const ours: number[] = [];
    const ref: number[] = [];
    const oursStart: number[] = [];
    const refStart: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const [bundle, into, start] of [['ours.js', ours, oursStart], ['yls.js', ref, refStart]] as const) {
        const res = JSON.parse(execFileSync(process.execPath, [path.join(out, bundle), typicalFile, schemaFile], { encoding: 'utf8' }));
        into.push(res.ms);
        start.push(res.sinceProcessStart);
      }
    }
    return [
      pair('deployfile: time to first diagnostics in a fresh process, median', 'ms', percentile(ours, 50), percentile(ref, 50), '>= 5x faster',
        `module load + schema ready + first validation of the 80-line file, esbuild bundles, ${runs} alternating child processes; including Node start-up: ${round(percentile(oursStart, 50), 1)} vs ${round(percentile(refStart, 50), 1)} ms`),
      pair('deployfile: time to first diagnostics in a fresh process, p90', 'ms', percentile(ours, 90), percentile(ref, 90), 'p90 reported with the median'),
    ];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  const yls = createYls();
  return [...(await typical(yls)), ...(await incremental(yls)), ...(await firstDiagnostics())];
}

if (require.main === module) {
  run().then(
    (results) => {
      console.table(results.map((r) => ({ name: r.name, ours: `${r.value} ${r.unit}`, [YLS]: r.reference ? `${r.reference.value} ${r.unit}` : '', ratio: r.ratio ? `${r.ratio}x` : '', goal: r.goal ?? '' })));
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
