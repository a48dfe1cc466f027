// Runs mocha in a child process (TypeScript through tsx) with the spec reporter streamed to the
// terminal and a JSON reporter to a file, so the counts we print are mocha's own, not scraped text.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export async function runMocha({ root, label, spec, extra = [], config = '.mocharc.json' }) {
  const out = path.join(root, 'test-results', `${label}.mocha.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.rmSync(out, { force: true });
  const mochaBin = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const child = spawn(process.execPath, [
    mochaBin,
    '--config', path.join(root, config),
    '--reporter', path.join(root, 'scripts', 'lib', 'dual-reporter.cjs'),
    '--reporter-option', `output=${out}`,
    ...extra,
    ...spec,
  ], { cwd: root, stdio: 'inherit', env: process.env });
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  let stats = { passes: 0, failures: 0, pending: 0 };
  try {
    stats = JSON.parse(fs.readFileSync(out, 'utf8')).stats;
  } catch {
    stats.failures = Math.max(1, stats.failures);
  }
  const failed = stats.failures + (code !== 0 && stats.failures === 0 ? 1 : 0);
  console.log(`${label}: ${stats.passes} passed, ${failed} failed${stats.pending ? `, ${stats.pending} skipped` : ''}`);
  fs.writeFileSync(path.join(root, 'test-results', `${label}.json`), JSON.stringify({ passed: stats.passes, failed, pending: stats.pending }));
  return { passed: stats.passes, failed, pending: stats.pending, ok: code === 0 && failed === 0 && stats.passes > 0 };
}
