#!/usr/bin/env node
// Runs test/ui: mocha (in plain Node, TypeScript through tsx) driving a real VS Code in headless Chromium.
// Prints "ui: N passed, N failed". Screenshots land in test-results/ui/.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMocha } from './lib/run-mocha.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (!args.includes('--no-build')) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const spec = args.filter((a) => !a.startsWith('--'));
const counts = await runMocha({
  root,
  label: 'ui',
  config: 'test/ui/.mocharc.json',
  spec: spec.length ? spec : ['test/ui/suite/**/*.test.ts'],
  extra: ['--timeout', '300000', '--slow', '30000', ...(grep ? ['--grep', grep] : [])],
});
process.exitCode = counts.ok ? 0 : 1;
