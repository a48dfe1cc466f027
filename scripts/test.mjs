#!/usr/bin/env node
// `npm test`: static checks, then the three test layers — unit (plain Node), host (inside a real VS Code
// extension host) and ui (a user's clicks in a real VS Code) — plus the packaged-.vsix check. Every layer
// runs even when an earlier one failed, each prints its counts, and the last line is the total.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const steps = [
  { name: 'typecheck', cmd: [node, 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'] },
  { name: 'lint', cmd: [node, 'node_modules/eslint/bin/eslint.js', '.'] },
  { name: 'build', cmd: [node, 'scripts/build.mjs'] },
  { name: 'unit', cmd: [node, 'scripts/test-unit.mjs'], counts: 'unit' },
  { name: 'host', cmd: [node, 'scripts/test-host.mjs', '--no-build'], counts: 'host' },
  { name: 'ui', cmd: [node, 'scripts/test-ui.mjs', '--no-build'], counts: 'ui' },
  { name: 'vsix', cmd: [node, 'scripts/test-vsix.mjs'], counts: 'vsix' },
];

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
fs.rmSync(path.join(root, 'test-results'), { recursive: true, force: true });
let passed = 0;
let failed = 0;
const summary = [];
for (const step of steps) {
  if (only.length && !only.includes(step.name)) continue;
  const started = Date.now();
  console.log(`\n=== ${step.name} ===`);
  const r = spawnSync(step.cmd[0], step.cmd.slice(1), { cwd: root, stdio: 'inherit' });
  const ok = r.status === 0;
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (step.counts) {
    let c = { passed: 0, failed: ok ? 0 : 1 };
    try { c = JSON.parse(fs.readFileSync(path.join(root, 'test-results', `${step.counts}.json`), 'utf8')); } catch { /* layer crashed before counting */ }
    if (!ok && c.failed === 0) c.failed = 1;
    passed += c.passed;
    failed += c.failed;
    summary.push(`${step.name}: ${c.passed} passed, ${c.failed} failed (${secs} s)`);
  } else {
    if (!ok) failed += 1;
    summary.push(`${step.name}: ${ok ? 'ok' : 'FAILED'} (${secs} s)`);
  }
}
console.log('\n=== summary ===');
for (const s of summary) console.log(s);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
