#!/usr/bin/env node
// `npm run bench`: a production build, then every bench/*.bench.ts (each in its own process, one after
// another so they do not compete for the 2 cores), then bench/RESULTS.md with every figure and ratio.
// `npm run bench -- deployfile sandbox` runs only those.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { stdio: 'inherit', cwd: root });
const files = fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort();
const resultsFile = path.join(root, 'bench', 'results.json');
let all = {};
try { all = JSON.parse(fs.readFileSync(resultsFile, 'utf8')); } catch { /* first run */ }
let failures = 0;
for (const f of files) {
  const area = f.replace('.bench.ts', '');
  if (only.length && !only.includes(area)) continue;
  console.log(`\n=== bench: ${area} ===`);
  const out = path.join(os.tmpdir(), `kd-bench-${area}-${process.pid}.json`);
  const child = `const m = require(${JSON.stringify(path.join(root, 'bench', f))}); m.run().then((r) => { require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(r)); console.table(r.map(({name, unit, value, reference, ratio, goal}) => ({name, value, unit, reference: reference ? reference.name + ': ' + reference.value : '', ratio, goal}))); }, (e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '--import', 'tsx/esm', '--expose-gc', '-e', child], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(out)) {
    failures++;
    console.error(`bench ${area} failed`);
    continue;
  }
  all[area] = { at: new Date().toISOString(), results: JSON.parse(fs.readFileSync(out, 'utf8')) };
  fs.rmSync(out);
}
fs.writeFileSync(resultsFile, JSON.stringify(all, null, 2) + '\n');

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` (last run ${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} × ${cpu}).`,
  'Each section comes from `bench/<area>.bench.ts`; references are measured in the same run on the same machine.',
  'Ratio: how many times better we are than the reference (reference ÷ ours for times), unless the notes say otherwise.',
  '',
];
for (const [area, { at, results }] of Object.entries(all)) {
  lines.push(`## ${area}`, '', `Measured ${at}. Rerun: \`npm run bench -- ${area}\`.`, '');
  lines.push('| measure | ours | reference | ratio | goal | notes |', '|---|---|---|---|---|---|');
  for (const r of results) {
    const ref = r.reference ? `${r.reference.name}: ${r.reference.value}` : '';
    const ratio = r.ratio === undefined ? '' : `${Number(r.ratio).toFixed(2)}×`;
    lines.push(`| ${r.name} | ${r.value} ${r.unit} | ${ref} | ${ratio} | ${r.goal ?? ''} | ${(r.notes ?? '').replace(/\|/g, '\\|')} |`);
  }
  lines.push('');
}
fs.writeFileSync(path.join(root, 'bench', 'RESULTS.md'), lines.join('\n'));
console.log(`\nbench/RESULTS.md written (${Object.keys(all).length} area(s))${failures ? `; ${failures} bench(es) FAILED` : ''}`);
process.exitCode = failures ? 1 : 0;
